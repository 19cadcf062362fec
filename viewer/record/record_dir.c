/*
 * record_dir: the recorder's directory writer. Each frame becomes one file, 00000001.jpg,
 * 00000002.jpg, ... (zero-padded so that a plain sort is the recording order), holding the JPEG
 * exactly as received, and one line of index.csv (columns in INDEX_HEADER, documented in
 * docs/RECORDING.md) that is written only once the file is complete. A frame may be a rendition
 * of the picture (smaller, or a lower JPEG quality): the index says its size, its quality and
 * the picture's size.
 *
 * What a crash or a full disk leaves: each index line goes out in one write() as soon as its file
 * is closed (no stdio buffer), so a killed viewer leaves an index of complete lines naming
 * complete files (at most one unlisted, partial file may follow). A failed write removes its own
 * file and cuts the index back to its last complete line, so after a full disk every file is
 * listed and every listed file is whole.
 *
 * Used by the recorder's thread only (record_sink.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "record_sink.h"

#define INDEX_NAME "index.csv"
/* Columns are only ever added at the end, so that readers of an older index keep working. */
#define INDEX_HEADER                                                                               \
	"file,seq,recv_unix_ns,recv_rel_ns,age_bound_ms,bytes,crc32,width,height,quality,"         \
	"src_width,src_height\n"

struct dir_sink {
	struct fc_record_sink base;
	int dfd;	 /* the directory: files are made relative to it */
	int index_fd;	 /* index.csv, appended to */
	off_t index_len; /* bytes of complete lines in index.csv */
	uint64_t files;	 /* frames written */
	bool created;	 /* we made the directory (removed again when no frame was written) */
	char path[4096]; /* the directory as given, without trailing slashes, for messages */
};

/* The whole buffer, or -1 with errno set. A write that makes no progress is a full disk. */
static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int dir_write(struct fc_record_sink *s, const struct fc_frame *f,
		     const struct fc_record_meta *m, char *err, size_t errlen)
{
	struct dir_sink *d = (struct dir_sink *)s;
	char name[32];
	char line[256];
	unsigned long crc = crc32_z(0L, f->data, f->size);
	int fd;
	int n;

	snprintf(name, sizeof(name), "%08llu.jpg", (unsigned long long)m->number);
	fd = openat(d->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", d->path, name, strerror(errno));
		return -1;
	}
	/* close() can be where a network or quota-limited file system reports the failure (and
	 * the fd is gone after it, failed or not). */
	if (write_all(fd, f->data, f->size) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	if (fd < 0 || close(fd) < 0) {
		int e = errno;

		unlinkat(d->dfd, name, 0);
		snprintf(err, errlen, "%s/%s: %s", d->path, name, strerror(e));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%s,%llu,%llu,%llu,%.3f,%zu,%08lx,%u,%u,%u,%u,%u\n", name,
		     (unsigned long long)f->seq, (unsigned long long)m->unix_ns,
		     (unsigned long long)m->rel_ns, (double)f->bound_ns / 1e6, f->size, crc,
		     (unsigned)f->width, (unsigned)f->height, (unsigned)f->quality,
		     (unsigned)f->src_width, (unsigned)f->src_height);
	if (write_all(d->index_fd, line, (size_t)n) < 0) {
		int e = errno;

		/* A partial line would make the index unreadable: cut it, and the unlisted file. */
		if (ftruncate(d->index_fd, d->index_len) < 0) {
			/* Nothing more to do: the reader sees a last line without its newline. */
		}
		unlinkat(d->dfd, name, 0);
		snprintf(err, errlen, "%s/" INDEX_NAME ": %s", d->path, strerror(e));
		return -1;
	}
	d->index_len += n;
	d->files++;
	return 0;
}

static int dir_close(struct fc_record_sink *s, char *err, size_t errlen)
{
	struct dir_sink *d = (struct dir_sink *)s;
	int status = 0;

	if (d->index_fd >= 0 && close(d->index_fd) < 0) {
		snprintf(err, errlen, "%s/" INDEX_NAME ": %s", d->path, strerror(errno));
		status = -1;
	}
	/* No frame came (a sender never reached): leave nothing, or the next run with the same
	 * path would be refused for an empty recording. */
	if (d->files == 0 && d->dfd >= 0) {
		unlinkat(d->dfd, INDEX_NAME, 0);
		if (d->created)
			rmdir(d->path);
	}
	if (d->dfd >= 0)
		close(d->dfd);
	free(d);
	return status;
}

static const struct fc_record_sink_ops dir_ops = {
	.write = dir_write,
	.close = dir_close,
};

/* 0 when the directory holds nothing; else -1 with err saying what it holds. */
static int check_empty(struct dir_sink *d, char *err, size_t errlen)
{
	int fd = dup(d->dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int status = 0;

	if (!dir) {
		snprintf(err, errlen, "cannot read directory %s: %s", d->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(dir))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* Never mix two recordings, nor overwrite anything: a new directory is one word. */
		snprintf(
		    err, errlen,
		    "cannot record into %s: it already holds files (%s%s); give a new directory "
		    "(it is created) or empty this one",
		    d->path, e->d_name,
		    strcmp(e->d_name, INDEX_NAME) == 0 ? ", an earlier recording" : "");
		status = -1;
		break;
	}
	closedir(dir);
	return status;
}

struct fc_record_sink *fc_record_dir_open(const char *path, char *err, size_t errlen)
{
	struct dir_sink *d = calloc(1, sizeof(*d));
	size_t len = strlen(path);

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base.ops = &dir_ops;
	d->dfd = d->index_fd = -1;
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(d->path)) {
		snprintf(err, errlen, "cannot record into %.100s...: the path is too long", path);
		goto fail;
	}
	memcpy(d->path, path, len);
	d->path[len] = '\0';
	if (mkdir(d->path, 0777) == 0) {
		d->created = true;
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create directory %s: %s", d->path, strerror(errno));
		goto fail;
	}
	d->dfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dfd < 0) {
		snprintf(err, errlen, "cannot record into %s: %s", d->path,
			 errno == ENOTDIR ? "it exists and is not a directory" : strerror(errno));
		goto fail;
	}
	if (!d->created && check_empty(d, err, errlen) < 0)
		goto fail;
	/* Made now, not at the first frame: an unwritable directory is found before streaming. */
	d->index_fd =
	    openat(d->dfd, INDEX_NAME, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
	if (d->index_fd < 0 || write_all(d->index_fd, INDEX_HEADER, strlen(INDEX_HEADER)) < 0) {
		snprintf(err, errlen, "cannot write in %s: %s", d->path, strerror(errno));
		if (d->index_fd >= 0)
			unlinkat(d->dfd, INDEX_NAME, 0);
		goto fail;
	}
	d->index_len = (off_t)strlen(INDEX_HEADER);
	snprintf(d->base.describe, sizeof(d->base.describe),
		 "%.200s/ (numbered JPEG files and " INDEX_NAME ")", d->path);
	return &d->base;
fail:
	if (d->index_fd >= 0)
		close(d->index_fd);
	if (d->dfd >= 0)
		close(d->dfd);
	if (d->created)
		rmdir(d->path);
	free(d);
	return NULL;
}
