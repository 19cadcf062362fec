/*
 * fakecam: an LD_PRELOAD library that makes a device path (/dev/video0 by default) exist and
 * behave like a UVC webcam for programs that use plain glibc calls (open, ioctl, mmap, stat, poll
 * on the fd). README.md in this directory says what it offers and how to configure it.
 *
 * Pieces and who owns what:
 * - fakecam.c: the libc interposers for open, close, dup, ioctl and mmap, and the table of fake
 *   fds. Every call on a path or fd that is not ours goes straight to the real function.
 * - stat.c: stat, access, readlink and realpath of the fake paths, and their /dev listing.
 * - config.c: the settings, read once from the environment (FAKECAM_*); read-only afterwards.
 * - v4l2.c: the ioctls, acting on the device state below.
 * - stream.c: the producer thread of a streaming device, and the rendering of a frame.
 *
 * Threads: the client's threads call in through the interposers; each streaming device has one
 * producer thread. Everything in struct fakecam_dev, struct fakecam_file and the ports is guarded
 * by the one global lock (fakecam_lock), except a buffer in state BUF_ACTIVE, whose memory the
 * producer fills without holding the lock, and the render context, which only the producer
 * touches. No work (drawing, encoding) happens under the lock.
 *
 * Lifetimes: a port is a configured path and lives for the process. A dev is one plugged-in
 * instance of a port: an unplug ends it (its fds stay open but dead) and a replug makes a new
 * one, as a real camera gets a new device when it comes back. A file is one open: it holds the
 * pipe whose read end the client got as its fd (dup shares the file). Files and devs are
 * reference-counted and freed under the lock when the count reaches zero.
 */
#ifndef FAKECAM_H
#define FAKECAM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <linux/videodev2.h>

#define FAKECAM_MAX_PORTS   8
#define FAKECAM_MAX_FORMATS 2
#define FAKECAM_MAX_SIZES   16
#define FAKECAM_MAX_RATES   8
#define FAKECAM_MIN_BUFS    2
#define FAKECAM_MAX_BUFS    8
#define FAKECAM_MAJOR	    81 /* the kernel's major number for video4linux devices */
#define FAKECAM_NCTRLS	    10 /* the controls table, its two class entries included */
#define FAKECAM_PATH_MAX    256

#define FAKECAM_API __attribute__((visibility("default")))

struct fakecam_size {
	int width;
	int height;
	int nrates;
	int rates[FAKECAM_MAX_RATES]; /* frames per second, fastest first */
};

struct fakecam_format {
	uint32_t fourcc; /* V4L2_PIX_FMT_YUYV or V4L2_PIX_FMT_MJPEG */
	int nsizes;
	struct fakecam_size sizes[FAKECAM_MAX_SIZES];
};

struct fakecam_config {
	int nports;
	char paths[FAKECAM_MAX_PORTS][FAKECAM_PATH_MAX];
	int nformats;
	struct fakecam_format formats[FAKECAM_MAX_FORMATS];
	uint64_t unplug_after;	 /* frames captured before the device vanishes; 0: never */
	int64_t replug_after_ns; /* after an unplug, when the path comes back; < 0: never */
	int busy;	   /* another program streams: S_FMT, S_PARM, REQBUFS, STREAMON fail */
	int corrupt_every; /* every Kth MJPEG frame is cut short; 0: none */
	int no_dht;	   /* MJPEG without Huffman tables */
	int jitter_ms;	   /* delivery of each frame is late by 0..jitter_ms */
	int readout_ms;	   /* capture-to-delivery delay; < 0: one frame interval */
	int log;	   /* log calls to stderr */
	char error[160];   /* why the configuration was rejected; empty when valid */
};

/* Read once, at the first interposed call. */
extern struct fakecam_config fakecam_cfg;

enum fakecam_buf_state {
	BUF_DEQUEUED, /* the client has it (or it was never queued) */
	BUF_QUEUED,   /* waits for a frame */
	BUF_ACTIVE,   /* the producer is filling it, without the lock */
	BUF_DONE,     /* filled, waits for DQBUF */
};

struct fakecam_buf {
	enum fakecam_buf_state state;
	uint32_t bytesused;
	uint32_t sequence;
	uint64_t timestamp_ns; /* CLOCK_MONOTONIC at the start of the frame, whole microseconds */
	int mapped;	       /* mmap was called for it (munmap is not tracked) */
};

struct fakecam_port;
struct fakecam_file;
struct fakecam_render;

struct fakecam_dev {
	struct fakecam_port *port;
	int refs; /* files open on it, plus one while it is the port's plugged instance */
	int gone; /* unplugged: every call but close fails with ENODEV */
	int fmt;  /* index into fakecam_cfg.formats */
	int size; /* index into that format's sizes */
	int rate; /* frames per second, one of that size's rates */
	int32_t ctrls[FAKECAM_NCTRLS];
	struct fakecam_file
	    *owner; /* the open that holds the format and the buffers (as uvcvideo) */

	/* Buffers: one memfd, buffer i at offset i * buf_stride; the client maps it through mmap on
	 * its fd, the producer through mem. */
	int nbufs;
	struct fakecam_buf bufs[FAKECAM_MAX_BUFS];
	uint32_t buf_len;  /* sizeimage */
	size_t buf_stride; /* buf_len rounded up to pages */
	int memfd;
	uint8_t *mem;
	int queued[FAKECAM_MAX_BUFS]; /* FIFO of QUEUED buffer indexes */
	int nqueued;
	int done[FAKECAM_MAX_BUFS]; /* FIFO of DONE buffer indexes, one pipe byte each */
	int ndone;

	/* Streaming: set before the producer starts, fixed while it runs. */
	int streaming;
	int stream_width, stream_height, stream_rate;
	uint32_t stream_fourcc;
	pthread_t thread;
	int thread_live;	       /* a producer thread exists and has not been joined */
	int joining;		       /* someone is joining it; others wait on cond */
	int stop;		       /* tells the producer to finish */
	pthread_cond_t cond;	       /* frames done, stop, unplug, join finished */
	uint32_t sequence;	       /* next frame's sequence number */
	uint64_t dropped;	       /* frames with no queued buffer */
	uint64_t overruns;	       /* frame slots missed because drawing fell behind */
	struct fakecam_render *render; /* the producer's; kept across restreams of one size */
};

struct fakecam_file {
	int refs; /* fds (dup shares a file) plus calls in progress */
	struct fakecam_dev *dev;
	int wfd; /* the pipe's write end: one byte per DONE buffer; -1 after an unplug */
};

struct fakecam_port {
	int index;
	int minor;
	const char *path;
	struct fakecam_dev *dev; /* the plugged instance, created at the first open; or NULL */
	int unplugged;		 /* the path does not exist now */
	int unplug_done;	 /* the one unplug has happened (FAKECAM_UNPLUG_AFTER) */
	uint64_t unplug_ns;	 /* when */
	uint64_t frames;	 /* frames captured on this port, over all instances */
};

/* fakecam.c */
extern pthread_mutex_t fakecam_lock;
void fakecam_init(void); /* at every interposer's start: resolves the real functions once */
void *fakecam_sym(const char *name);
/* Whether path is a fake device: 0 no, 1 yes and present, -1 yes but unplugged (*port set). */
int fakecam_lookup_path(const char *path, const struct fakecam_port **port);
/* The port of a fake fd, or NULL. */
const struct fakecam_port *fakecam_lookup_fd(int fd);
void fakecam_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t fakecam_now_ns(void);
/* The real functions, for the library's own use. */
int fakecam_real_close(int fd);
int fakecam_real_fcntl(int fd, int cmd, long arg);
void *fakecam_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
/* Called with the lock held by the producer when the port's frame count reaches the limit. */
void fakecam_unplug_locked(struct fakecam_dev *d);
void fakecam_file_get(struct fakecam_file *f);
/* With the lock held; may drop and retake it (to join a producer). */
void fakecam_file_put(struct fakecam_file *f);

/* stat.c */
void fakecam_stat_init(void);

/* config.c: fills fakecam_cfg from the environment; on a bad setting sets error and nports 0. */
void fakecam_config_load(struct fakecam_config *cfg);
const struct fakecam_format *fakecam_format(const struct fakecam_dev *d);
const struct fakecam_size *fakecam_size(const struct fakecam_dev *d);

/* v4l2.c: one ioctl on a fake fd, with the lock held. Returns 0 or -errno. */
int fakecam_ioctl_locked(struct fakecam_file *f, int fd, unsigned long req, void *arg);
const char *fakecam_ioctl_name(unsigned long req);
void fakecam_dev_init(struct fakecam_dev *d, struct fakecam_port *port);
/* Frees buffers and stops streaming; with the lock held, may drop it to join. */
void fakecam_dev_release_queue(struct fakecam_dev *d);
void fakecam_dev_free(struct fakecam_dev *d);

/* stream.c */
int fakecam_stream_start(struct fakecam_dev *d);	/* lock held; 0 or -errno */
void fakecam_stream_stop_locked(struct fakecam_dev *d); /* may drop the lock to join */
void fakecam_render_free(struct fakecam_render *r);
uint32_t fakecam_sizeimage(uint32_t fourcc, int width, int height);

#endif
