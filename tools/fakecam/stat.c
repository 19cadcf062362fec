/*
 * stat: the interposers that make a fake device path look like a real /dev/videoN to the
 * programs that check before they open (GStreamer's v4l2src wants a character device, v4l2-ctl
 * reads the major and minor to find it in sysfs) or that list /dev to find cameras. While the
 * camera is unplugged the path does not exist. Everything else goes to the real functions.
 */
#include "fakecam.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define VIDEO_GID 44 /* Debian's "video" group, which owns real /dev/video* nodes */

static struct {
	int (*stat)(const char *, struct stat *);
	int (*lstat)(const char *, struct stat *);
	int (*fstat)(int, struct stat *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*statx)(int, const char *, int, unsigned int, struct statx *);
	int (*access)(const char *, int);
	int (*faccessat)(int, const char *, int, int);
	ssize_t (*readlink)(const char *, char *, size_t);
	char *(*realpath)(const char *, char *);
	DIR *(*opendir)(const char *);
	int (*closedir)(DIR *);
	struct dirent *(*readdir)(DIR *);
} real;

void fakecam_stat_init(void)
{
	real.stat = fakecam_sym("stat");
	real.lstat = fakecam_sym("lstat");
	real.fstat = fakecam_sym("fstat");
	real.fstatat = fakecam_sym("fstatat");
	real.statx = fakecam_sym("statx");
	real.access = fakecam_sym("access");
	real.faccessat = fakecam_sym("faccessat");
	real.readlink = fakecam_sym("readlink");
	real.realpath = fakecam_sym("realpath");
	real.opendir = fakecam_sym("opendir");
	real.closedir = fakecam_sym("closedir");
	real.readdir = fakecam_sym("readdir");
}

static void fill_stat(const struct fakecam_port *p, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(0, 5); /* devtmpfs */
	st->st_ino = 1000 + (ino_t)p->index;
	st->st_mode = S_IFCHR | 0660;
	st->st_nlink = 1;
	st->st_uid = 0;
	st->st_gid = VIDEO_GID;
	st->st_rdev = makedev(FAKECAM_MAJOR, (unsigned)p->minor);
	st->st_blksize = 4096;
}

/* glibc declares the paths nonnull, yet a NULL path with AT_EMPTY_PATH is valid for the kernel:
 * checked out of line so that the compiler does not drop the test. */
__attribute__((noinline)) static int empty_path(const char *path)
{
	return !path || !path[0];
}

/* Returns 1 when the path is a fake device (result in *st, or -1 and errno in *ret), else 0. */
static int stat_path(const char *path, struct stat *st, int *ret)
{
	const struct fakecam_port *p;
	int found = fakecam_lookup_path(path, &p);

	if (!found)
		return 0;
	if (found < 0) {
		errno = ENOENT;
		*ret = -1;
		return 1;
	}
	fill_stat(p, st);
	*ret = 0;
	return 1;
}

/* Returns 1 when fd is a fake device's (result in *st), else 0. */
static int stat_fd(int fd, struct stat *st)
{
	const struct fakecam_port *p = fakecam_lookup_fd(fd);

	if (p)
		fill_stat(p, st);
	return p != NULL;
}

FAKECAM_API int stat(const char *path, struct stat *st)
{
	int ret;

	if (stat_path(path, st, &ret))
		return ret;
	return real.stat(path, st);
}

FAKECAM_API int lstat(const char *path, struct stat *st)
{
	int ret;

	if (stat_path(path, st, &ret))
		return ret;
	return real.lstat(path, st);
}

FAKECAM_API int fstat(int fd, struct stat *st)
{
	if (stat_fd(fd, st))
		return 0;
	return real.fstat(fd, st);
}

FAKECAM_API int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int ret;

	if ((flags & AT_EMPTY_PATH) && empty_path(path) && stat_fd(dirfd, st))
		return 0;
	if (stat_path(path, st, &ret))
		return ret;
	return real.fstatat(dirfd, path, st, flags);
}

/* On 64-bit glibc struct stat64 is struct stat, and the *64 functions are the same ones. */
FAKECAM_API int stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st);
}

FAKECAM_API int lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st);
}

FAKECAM_API int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

FAKECAM_API int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

/* Programs built against glibc before 2.33 call these; ver is _STAT_VER, which on x86-64 means
 * the struct stat of today. */
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __xstat64(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat *st);
int __fxstat64(int ver, int fd, struct stat *st);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags);

FAKECAM_API int __xstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat(path, st);
}

FAKECAM_API int __lxstat(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return lstat(path, st);
}

FAKECAM_API int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

FAKECAM_API int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}

FAKECAM_API int __xstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return stat(path, st);
}

FAKECAM_API int __lxstat64(int ver, const char *path, struct stat *st)
{
	(void)ver;
	return lstat(path, st);
}

FAKECAM_API int __fxstat64(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

FAKECAM_API int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}

FAKECAM_API int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	struct stat st;
	int handled = 0;
	int ret = 0;

	if ((flags & AT_EMPTY_PATH) && empty_path(path))
		handled = stat_fd(dirfd, &st);
	if (!handled)
		handled = stat_path(path, &st, &ret);
	if (!handled)
		return real.statx(dirfd, path, flags, mask, stx);
	if (ret)
		return ret;
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st.st_blksize;
	stx->stx_nlink = (uint32_t)st.st_nlink;
	stx->stx_uid = st.st_uid;
	stx->stx_gid = st.st_gid;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_ino = st.st_ino;
	stx->stx_rdev_major = major(st.st_rdev);
	stx->stx_rdev_minor = minor(st.st_rdev);
	stx->stx_dev_major = major(st.st_dev);
	stx->stx_dev_minor = minor(st.st_dev);
	return 0;
}

/* access: read and write are allowed (we run as whoever owns the camera), execute is not. */
static int access_path(const char *path, int mode, int *ret)
{
	struct stat st;

	if (!stat_path(path, &st, ret))
		return 0;
	if (*ret == 0 && (mode & X_OK)) {
		errno = EACCES;
		*ret = -1;
	}
	return 1;
}

FAKECAM_API int access(const char *path, int mode)
{
	int ret;

	if (access_path(path, mode, &ret))
		return ret;
	return real.access(path, mode);
}

FAKECAM_API int faccessat(int dirfd, const char *path, int mode, int flags)
{
	int ret;

	if (access_path(path, mode, &ret))
		return ret;
	return real.faccessat(dirfd, path, mode, flags);
}

/* A device node is not a symlink: EINVAL while it exists, ENOENT while unplugged. */
FAKECAM_API ssize_t readlink(const char *path, char *buf, size_t size)
{
	struct stat st;
	int ret;

	if (!stat_path(path, &st, &ret))
		return real.readlink(path, buf, size);
	if (ret == 0)
		errno = EINVAL;
	return -1;
}

FAKECAM_API char *realpath(const char *path, char *resolved)
{
	struct stat st;
	int ret;

	if (!stat_path(path, &st, &ret))
		return real.realpath(path, resolved);
	if (ret)
		return NULL;
	if (!resolved)
		return strdup(path);
	snprintf(resolved, PATH_MAX, "%s", path);
	return resolved;
}

/* ---- /dev listings: the fake nodes appear after the real entries ---- */

#define MAX_DIRS 8

/* Open listings of /dev, so that programs that look for cameras by reading the directory
 * (v4l2-ctl --list-devices) find the fake ones. Streams are used by one thread at a time, so a
 * slot's entry needs no lock once found; the table itself has its own. */
static struct dev_listing {
	DIR *dir;
	int next;      /* the next port to list once the real entries are done */
	unsigned seen; /* ports whose name the real directory already had */
	struct dirent ent;
} listings[MAX_DIRS];
static pthread_mutex_t listings_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int nlistings;

/* The name of port i inside /dev, or NULL when it lives elsewhere. */
static const char *dev_name(int i)
{
	const char *path = fakecam_cfg.paths[i];

	if (strncmp(path, "/dev/", 5) || strchr(path + 5, '/') || !path[5])
		return NULL;
	return path + 5;
}

FAKECAM_API DIR *opendir(const char *name)
{
	DIR *dir;

	fakecam_init();
	dir = real.opendir(name);
	if (!dir || !fakecam_cfg.nports || (strcmp(name, "/dev") && strcmp(name, "/dev/")))
		return dir;
	pthread_mutex_lock(&listings_lock);
	for (int i = 0; i < MAX_DIRS; i++) {
		if (!listings[i].dir) {
			memset(&listings[i], 0, sizeof(listings[i]));
			listings[i].dir = dir;
			atomic_fetch_add(&nlistings, 1);
			break;
		}
	}
	pthread_mutex_unlock(&listings_lock);
	return dir;
}

static struct dev_listing *find_listing(DIR *dir)
{
	struct dev_listing *l = NULL;

	if (atomic_load(&nlistings) == 0)
		return NULL;
	pthread_mutex_lock(&listings_lock);
	for (int i = 0; i < MAX_DIRS && !l; i++) {
		if (listings[i].dir == dir)
			l = &listings[i];
	}
	pthread_mutex_unlock(&listings_lock);
	return l;
}

FAKECAM_API int closedir(DIR *dir)
{
	struct dev_listing *l;

	fakecam_init();
	l = find_listing(dir);
	if (l) {
		pthread_mutex_lock(&listings_lock);
		l->dir = NULL;
		atomic_fetch_sub(&nlistings, 1);
		pthread_mutex_unlock(&listings_lock);
	}
	return real.closedir(dir);
}

FAKECAM_API struct dirent *readdir(DIR *dir)
{
	struct dev_listing *l;
	struct dirent *ent;
	int saved = errno;

	fakecam_init();
	l = find_listing(dir);
	ent = real.readdir(dir);
	if (!l)
		return ent;
	if (ent) {
		for (int i = 0; i < fakecam_cfg.nports; i++) {
			const char *name = dev_name(i);

			if (name && !strcmp(name, ent->d_name))
				l->seen |= 1u << i;
		}
		return ent;
	}
	if (errno != saved)
		return NULL; /* a real error, not the end */
	for (; l->next < fakecam_cfg.nports; l->next++) {
		const struct fakecam_port *p;
		const char *name = dev_name(l->next);

		if (!name || (l->seen & 1u << l->next) ||
		    fakecam_lookup_path(fakecam_cfg.paths[l->next], &p) != 1)
			continue;
		memset(&l->ent, 0, sizeof(l->ent));
		l->ent.d_ino = 1000 + (ino_t)l->next;
		l->ent.d_reclen = sizeof(l->ent);
		l->ent.d_type = DT_CHR;
		snprintf(l->ent.d_name, sizeof(l->ent.d_name), "%s", name);
		l->next++;
		return &l->ent;
	}
	errno = saved;
	return NULL;
}

/* On 64-bit glibc struct dirent64 is struct dirent. */
FAKECAM_API struct dirent64 *readdir64(DIR *dir)
{
	return (struct dirent64 *)readdir(dir);
}
