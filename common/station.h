/*
 * station: the name a freshcam end gives itself in its HELLO (version 5), which a viewer of
 * several senders tells them apart by: the sender's --name, by default the host name.
 *
 * A station name is 1..FC_PROTO_MAX_STATION bytes of printable ASCII (it reaches consoles and
 * file names, so no escapes). On the viewer it becomes part of a path (a recording per sender):
 * fc_station_file makes it safe for that. Pure functions (the default reads the host name),
 * callable from any thread; nothing here prints.
 */
#ifndef FC_STATION_H
#define FC_STATION_H

#include <stddef.h>

#include "proto.h"

/* 0 when name can go in a HELLO; -1 with the reason (naming option and value) in err. */
int fc_station_check(const char *option, const char *name, char *err, size_t errlen);

/* This host's name, cut to its first label ("robot7.lab" -> "robot7") and to the limit, with
 * anything unprintable replaced by '-'; "freshcam" when the host has no name. */
void fc_station_default(char *out, size_t outlen);

/* name made safe as one path component: letters, digits, '-', '_' and '.' kept, anything else
 * '_', never "." or ".." or empty ("unnamed"), at most FC_PROTO_MAX_STATION bytes. */
void fc_station_file(const char *name, char *out, size_t outlen);

#endif
