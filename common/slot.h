/*
 * slot: the latest-only mailbox between one producer and any number of consumers.
 *
 * It holds one frame. fc_slot_publish replaces it (dropping the slot's reference to the old one);
 * a consumer asks for "a frame newer than the one I had" and gets a reference to the newest, never
 * a queue of old ones, so a slow consumer skips frames instead of falling behind. Sequence numbers
 * make "newer" exact and let a consumer wait on a predicate, never on a bare condition.
 *
 * Consumers that wait in poll() rather than on the slot's condition (a sender session also
 * watches its socket) register an eventfd; each publish makes every registered fd readable.
 *
 * Thread-safe. The lock guards a pointer swap, a counter and the eventfd pokes (see slot.c for why
 * those); releasing the old frame and everything a consumer does with a frame happen outside it
 * (docs/STYLE.md, 7).
 */
#ifndef FC_SLOT_H
#define FC_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define FC_SLOT_MAX_WATCHERS 64

struct fc_slot;

struct fc_slot *fc_slot_new(void);
/* Frees the slot and drops its frame. No thread may still use it. */
void fc_slot_free(struct fc_slot *s);

/* Replaces the slot's frame with f, taking over the caller's reference. f->seq must be larger
 * than every seq published before. */
void fc_slot_publish(struct fc_slot *s, struct fc_frame *f);

/* A reference to the slot's frame when its seq is larger than after_seq; else NULL. Never waits. */
struct fc_frame *fc_slot_get_newer(struct fc_slot *s, uint64_t after_seq);

/* As fc_slot_get_newer, waiting until the monotonic clock reaches deadline_ns for such a frame.
 * NULL on timeout or once the slot is closed. */
struct fc_frame *fc_slot_wait_newer(struct fc_slot *s, uint64_t after_seq, uint64_t deadline_ns);

/*
 * Frames in parts (docs/PROTOCOL.md, section 14): the producer may show a frame while it is
 * still being encoded (frame.h: growth FC_FRAME_GROWING, avail growing), apart from the slot's
 * frame, so that consumers that can follow it start sending its first bytes at once. Every
 * other consumer sees only whole frames, as before: fc_slot_get_newer never returns it.
 *
 * fc_slot_begin shows f (taking a reference of its own) and pokes the watchers; fc_slot_publish
 * of the same frame, whole, puts it in the slot and stops showing it; fc_slot_end stops showing
 * it without publishing (its encode failed). fc_slot_get_growing: a reference to the frame
 * shown when its seq is larger than after_seq, else NULL. fc_slot_follow counts the consumers
 * that follow such frames (+1 or -1); fc_slot_followers is that count, so that a producer
 * with none spares the wake-ups.
 */
void fc_slot_begin(struct fc_slot *s, struct fc_frame *f);
void fc_slot_end(struct fc_slot *s, struct fc_frame *f);
struct fc_frame *fc_slot_get_growing(struct fc_slot *s, uint64_t after_seq);
void fc_slot_follow(struct fc_slot *s, int delta);
int fc_slot_followers(struct fc_slot *s);

/* Wakes the watchers without a new frame: the producer has added to the frame already
 * published (a rendition, frame.h), which a watcher may be waiting for. */
void fc_slot_poke(struct fc_slot *s);

/* Wakes every waiter and makes all later waits return NULL at once: the producer is gone. The
 * frame in the slot can still be fetched with fc_slot_get_newer. */
void fc_slot_close(struct fc_slot *s);

/* Registers a non-blocking eventfd to be written on each publish and on close. After
 * fc_slot_unwatch returns, the slot never touches the fd again. -1 when FC_SLOT_MAX_WATCHERS are
 * registered. */
int fc_slot_watch(struct fc_slot *s, int fd);
void fc_slot_unwatch(struct fc_slot *s, int fd);

/*
 * The producer's source state (enum fc_source_state in proto.h: live, or lost with a reason), so
 * that each consumer can tell its peer. Setting it pokes the watchers like a publish.
 * fc_slot_source copies it out and returns its generation, which changes with every set.
 */
void fc_slot_set_source(struct fc_slot *s, int state, const char *text);
unsigned fc_slot_source(struct fc_slot *s, int *state, char *text, size_t len);

/* The newest seq published so far (0 before the first). */
uint64_t fc_slot_seq(struct fc_slot *s);

#endif
