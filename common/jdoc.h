/*
 * jdoc: the JSON documents that travel with frames (DATA, docs/PROTOCOL.md section 10), checked
 * and tidied as pure functions over bytes.
 *
 * A document is exactly one JSON value (RFC 8259) in UTF-8, at most FC_JDOC_MAX bytes, nested at
 * most FC_JDOC_DEPTH deep, with no byte below 0x20: whitespace between tokens is spaces only, so
 * a document always fits on one line of a JSON Lines stream and can be embedded as it is in any
 * JSON the programs write. fc_jdoc_compact turns what a local program hands in (tabs, a CR at the
 * end of a line) into that form.
 *
 * No allocation, no I/O, no globals: the wire decoder calls fc_jdoc_check, and it is a fuzz
 * target through it. Any thread.
 */
#ifndef FC_JDOC_H
#define FC_JDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_JDOC_MAX   4096 /* bytes in one document (FC_PROTO_MAX_DATA) */
#define FC_JDOC_DEPTH 32   /* arrays and objects inside one another */

/* 0 when buf[0..len) is one document as above; else -1 with why (may be NULL) saying what is
 * wrong and at which byte. */
int fc_jdoc_check(const uint8_t *buf, size_t len, char *why, size_t whylen);

/* Copies in[0..len) into out without the whitespace outside strings (and so without tabs and
 * line ends), but for one space where it parts two numbers or literals ("[1 2]" stays two
 * values, and is refused by the check). Returns the bytes written, or -1 when out (cap bytes) is too small or a string has
 * a control byte or no end; the copy is to be checked with fc_jdoc_check. */
long fc_jdoc_compact(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* The value of key in the top-level object doc (a checked document): *off and *vlen its span.
 * false when doc is not an object or has no such key (keys are compared byte for byte, as
 * written: escapes are not decoded). */
bool fc_jdoc_member(const uint8_t *doc, size_t len, const char *key, size_t *off, size_t *vlen);

#endif
