/*
 * webfiles: the live page's files (web/), built into freshcam-send so that the program needs
 * nothing installed beside it. webfiles.c is generated at build time from every file of web/ by
 * webfiles.cmake (one array per file); nothing here is written by hand.
 *
 * Read-only data, any thread.
 */
#ifndef FC_WEBFILES_H
#define FC_WEBFILES_H

#include <stddef.h>

struct fc_webfile {
	const char *path; /* as requested: "/index.html", "/app.js" */
	const unsigned char *data;
	size_t size;
};

extern const struct fc_webfile fc_webfiles[];
extern const size_t fc_webfiles_count;

#endif
