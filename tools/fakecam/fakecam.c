/*
 * fakecam.c: the libc interposers and the table of fake fds (fakecam.h has the design).
 *
 * Each interposer first asks whether the path or fd is ours; if not, it calls the real function
 * with the same arguments and nothing else happens, so the library is invisible to everything but
 * the configured device paths. An fd is ours when it is in the table; the table is empty in most
 * processes, and a call on an unknown fd then costs one atomic load.
 *
 * An open of a fake path returns the read end of a pipe: a real fd, so poll, select and epoll
 * work on it, and it never polls writable (uStreamer reads a writable capture fd as a lost
 * device). The producer writes one byte per finished buffer; DQBUF reads it back. An unplug
 * closes the write end, and the fd then polls POLLHUP like a removed camera's.
 */
#undef _FORTIFY_SOURCE /* its inline open() wrappers would clash with the interposers below */

#include "fakecam.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS	   64
#define SYSFS_CHAR "/sys/dev/char/"

struct fakecam_config fakecam_cfg;
pthread_mutex_t fakecam_lock = PTHREAD_MUTEX_INITIALIZER;

static struct fakecam_port ports[FAKECAM_MAX_PORTS];
static struct {
	int fd;
	struct fakecam_file *file;
} fds[MAX_FDS];
static atomic_int nfds; /* entries in use: 0 lets every fd call pass without the lock */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static struct {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*close)(int);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	FILE *(*fopen)(const char *, const char *);
} real;

/* ---- setup ---- */

void *fakecam_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&fakecam_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&fakecam_lock);
}

/* The child has none of the producer threads, so the devices it inherited cannot run: it forgets
 * them (their fds become plain pipes) and starts afresh if it opens the path itself. */
static void atfork_child(void)
{
	memset(fds, 0, sizeof(fds));
	atomic_store(&nfds, 0);
	for (int i = 0; i < fakecam_cfg.nports; i++)
		ports[i].dev = NULL;
	pthread_mutex_unlock(&fakecam_lock);
}

static int path_minor(const char *path, int index)
{
	size_t len = strlen(path);
	size_t digits = 0;

	while (digits < len && digits < 3 && path[len - 1 - digits] >= '0' &&
	       path[len - 1 - digits] <= '9')
		digits++;
	return digits ? (int)strtol(path + len - digits, NULL, 10) : 200 + index;
}

static void init(void)
{
	real.open = fakecam_sym("open");
	real.openat = fakecam_sym("openat");
	real.open_2 = fakecam_sym("__open_2");
	real.openat_2 = fakecam_sym("__openat_2");
	real.close = fakecam_sym("close");
	real.ioctl = fakecam_sym("ioctl");
	real.mmap = fakecam_sym("mmap");
	real.dup = fakecam_sym("dup");
	real.dup2 = fakecam_sym("dup2");
	real.dup3 = fakecam_sym("dup3");
	real.fcntl = fakecam_sym("fcntl");
	real.fopen = fakecam_sym("fopen");
	fakecam_stat_init();

	fakecam_config_load(&fakecam_cfg);
	/* The one message printed without FAKECAM_LOG: whoever set FAKECAM_* needs to know the
	 * camera is missing because of a typo, not because of the program under test. */
	if (fakecam_cfg.error[0])
		dprintf(2, "fakecam: %s; no fake camera\n", fakecam_cfg.error);
	for (int i = 0; i < fakecam_cfg.nports; i++) {
		ports[i].index = i;
		ports[i].path = fakecam_cfg.paths[i];
		ports[i].minor = path_minor(ports[i].path, i);
	}
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	fakecam_log("devices: %d, first %s, formats: %d", fakecam_cfg.nports,
		    fakecam_cfg.nports ? fakecam_cfg.paths[0] : "-", fakecam_cfg.nformats);
}

void fakecam_init(void)
{
	pthread_once(&once, init);
}

void fakecam_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!fakecam_cfg.log)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	dprintf(2, "fakecam[%d]: %s\n", (int)getpid(), line);
}

uint64_t fakecam_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int fakecam_real_close(int fd)
{
	return real.close(fd);
}

int fakecam_real_fcntl(int fd, int cmd, long arg)
{
	return real.fcntl(fd, cmd, arg);
}

void *fakecam_real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return real.mmap(addr, len, prot, flags, fd, off);
}

/* ---- ports, files and the fd table (lock held) ---- */

static struct fakecam_port *port_by_path(const char *path)
{
	if (!path || path[0] != '/')
		return NULL;
	for (int i = 0; i < fakecam_cfg.nports; i++) {
		if (!strcmp(path, ports[i].path))
			return &ports[i];
	}
	return NULL;
}

/* "/sys/dev/char/81:N/uevent": v4l2-ctl reads it to find a device's name. */
static struct fakecam_port *port_by_uevent(const char *path)
{
	char want[64];

	if (!path || strncmp(path, SYSFS_CHAR, sizeof(SYSFS_CHAR) - 1))
		return NULL;
	for (int i = 0; i < fakecam_cfg.nports; i++) {
		snprintf(want, sizeof(want), SYSFS_CHAR "%d:%d/uevent", FAKECAM_MAJOR,
			 ports[i].minor);
		if (!strcmp(path, want))
			return &ports[i];
	}
	return NULL;
}

/* Whether the path exists now: after an unplug it comes back FAKECAM_REPLUG_AFTER later. */
static int port_present(struct fakecam_port *p)
{
	if (p->unplugged && fakecam_cfg.replug_after_ns >= 0 &&
	    fakecam_now_ns() >= p->unplug_ns + (uint64_t)fakecam_cfg.replug_after_ns) {
		p->unplugged = 0;
		fakecam_log("%s: plugged in again", p->path);
	}
	return !p->unplugged;
}

static struct fakecam_file *fd_find(int fd)
{
	for (int i = 0; i < MAX_FDS; i++) {
		if (fds[i].file && fds[i].fd == fd)
			return fds[i].file;
	}
	return NULL;
}

static int fd_add(int fd, struct fakecam_file *f)
{
	for (int i = 0; i < MAX_FDS; i++) {
		if (!fds[i].file) {
			fds[i].fd = fd;
			fds[i].file = f;
			f->refs++;
			atomic_fetch_add(&nfds, 1);
			return 0;
		}
	}
	return -1;
}

/* Removes fd from the table; returns its file, whose table reference the caller now holds. */
static struct fakecam_file *fd_take(int fd)
{
	for (int i = 0; i < MAX_FDS; i++) {
		if (fds[i].file && fds[i].fd == fd) {
			struct fakecam_file *f = fds[i].file;

			fds[i].file = NULL;
			atomic_fetch_sub(&nfds, 1);
			return f;
		}
	}
	return NULL;
}

static void dev_put(struct fakecam_dev *d)
{
	if (--d->refs == 0)
		fakecam_dev_free(d);
}

void fakecam_file_get(struct fakecam_file *f)
{
	f->refs++;
}

void fakecam_file_put(struct fakecam_file *f)
{
	struct fakecam_dev *d = f->dev;

	if (--f->refs > 0)
		return;
	if (d->owner == f) {
		fakecam_dev_release_queue(d);
		d->owner = NULL;
	}
	if (f->wfd >= 0)
		real.close(f->wfd);
	free(f);
	dev_put(d);
}

void fakecam_unplug_locked(struct fakecam_dev *d)
{
	struct fakecam_port *p = d->port;

	fakecam_log("%s: unplugged after %llu frames", p->path, (unsigned long long)p->frames);
	d->gone = 1;
	/* Closing the write ends makes every fd of this device poll POLLHUP. */
	for (int i = 0; i < MAX_FDS; i++) {
		struct fakecam_file *f = fds[i].file;

		if (f && f->dev == d && f->wfd >= 0) {
			real.close(f->wfd);
			f->wfd = -1;
		}
	}
	pthread_cond_broadcast(&d->cond);
	p->unplugged = 1;
	p->unplug_done = 1;
	p->unplug_ns = fakecam_now_ns();
	if (p->dev == d) {
		p->dev = NULL;
		dev_put(d);
	}
}

/* ---- open and close ---- */

/* Opens a fake device: lock not held. Returns the fd, or -1 with errno. */
static int open_device(struct fakecam_port *p, int flags)
{
	struct fakecam_file *f = NULL;
	int pfd[2];
	int err = 0;

	if (flags & O_DIRECTORY) {
		errno = ENOTDIR;
		return -1;
	}
	pthread_mutex_lock(&fakecam_lock);
	if (!port_present(p)) {
		err = ENOENT;
		goto out;
	}
	/* The write end stays ours: close-on-exec, so no child keeps it open past an unplug, and
	 * non-blocking, so the producer can never stall on it. */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		err = errno;
		goto out;
	}
	/* An entry for this number is stale: its fd was closed where no interposer saw it
	 * (fclose of an fdopen'd stream, a raw system call). Forget it first; this may drop the
	 * lock, so the port is looked at only afterwards. */
	f = fd_take(pfd[0]);
	if (f)
		fakecam_file_put(f);
	f = NULL;
	if (!p->dev) {
		p->dev = calloc(1, sizeof(*p->dev));
		if (!p->dev) {
			err = ENOMEM;
			goto out_pipe;
		}
		fakecam_dev_init(p->dev, p);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		err = ENOMEM;
		goto out_pipe;
	}
	if (!(flags & O_CLOEXEC))
		real.fcntl(pfd[0], F_SETFD, 0);
	if (flags & O_NONBLOCK)
		real.fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	real.fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	f->dev = p->dev;
	f->wfd = pfd[1];
	p->dev->refs++;
	if (fd_add(pfd[0], f)) {
		p->dev->refs--;
		free(f);
		err = EMFILE;
		goto out_pipe;
	}
	fakecam_log("open(%s, %s%s) = %d", p->path,
		    (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "O_RDWR",
		    flags & O_NONBLOCK ? "|O_NONBLOCK" : "", pfd[0]);
	pthread_mutex_unlock(&fakecam_lock);
	return pfd[0];
out_pipe:
	real.close(pfd[0]);
	real.close(pfd[1]);
out:
	fakecam_log("open(%s) = -1 %s", p->path, strerror(err));
	pthread_mutex_unlock(&fakecam_lock);
	errno = err;
	return -1;
}

/* The uevent file of a fake device, served from a memfd. */
static int open_uevent(struct fakecam_port *p)
{
	char text[128];
	int fd;
	int n;

	pthread_mutex_lock(&fakecam_lock);
	n = port_present(p);
	pthread_mutex_unlock(&fakecam_lock);
	if (!n) {
		errno = ENOENT;
		return -1;
	}
	n = snprintf(text, sizeof(text), "MAJOR=%d\nMINOR=%d\nDEVNAME=%s\n", FAKECAM_MAJOR,
		     p->minor, p->path + (strncmp(p->path, "/dev/", 5) ? 0 : 5));
	fd = memfd_create("fakecam-uevent", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n || lseek(fd, 0, SEEK_SET) != 0) {
		real.close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

/* Returns 1 and sets *fd when the path is ours, 0 when the real open should handle it. */
static int try_open(const char *path, int flags, int *fd)
{
	struct fakecam_port *p;

	fakecam_init();
	if (!path || path[0] != '/' || !fakecam_cfg.nports)
		return 0;
	p = port_by_path(path);
	if (p) {
		*fd = open_device(p, flags);
		return 1;
	}
	p = port_by_uevent(path);
	if (p) {
		*fd = open_uevent(p);
		return 1;
	}
	return 0;
}

static mode_t va_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

FAKECAM_API int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (try_open(path, flags, &fd))
		return fd;
	return real.open(path, flags, mode);
}

FAKECAM_API int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (try_open(path, flags, &fd))
		return fd;
	/* On 64-bit glibc open and open64 are one function. */
	return real.open(path, flags, mode);
}

FAKECAM_API int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (try_open(path, flags, &fd))
		return fd;
	return real.openat(dirfd, path, flags, mode);
}

FAKECAM_API int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	if (try_open(path, flags, &fd))
		return fd;
	return real.openat(dirfd, path, flags, mode);
}

/* _FORTIFY_SOURCE builds of clients (ffmpeg, v4l2-ctl) call these instead of open. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

FAKECAM_API int __open_2(const char *path, int flags)
{
	int fd;

	if (try_open(path, flags, &fd))
		return fd;
	return real.open_2(path, flags);
}

FAKECAM_API int __open64_2(const char *path, int flags)
{
	return __open_2(path, flags);
}

FAKECAM_API int __openat_2(int dirfd, const char *path, int flags)
{
	int fd;

	if (try_open(path, flags, &fd))
		return fd;
	return real.openat_2(dirfd, path, flags);
}

FAKECAM_API int __openat64_2(int dirfd, const char *path, int flags)
{
	return __openat_2(dirfd, path, flags);
}

/* v4l2-ctl reads the uevent file through std::ifstream, which opens with fopen64; glibc's fopen
 * makes its open internally, where no interposer sees it. */
static FILE *fopen_common(const char *path, const char *mode)
{
	struct fakecam_port *p = NULL;
	FILE *f;
	int fd;

	fakecam_init();
	if (fakecam_cfg.nports)
		p = port_by_uevent(path);
	if (!p)
		return real.fopen(path, mode);
	if (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')) {
		errno = EACCES;
		return NULL;
	}
	fd = open_uevent(p);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f)
		real.close(fd);
	return f;
}

FAKECAM_API FILE *fopen(const char *path, const char *mode)
{
	return fopen_common(path, mode);
}

FAKECAM_API FILE *fopen64(const char *path, const char *mode)
{
	return fopen_common(path, mode);
}

FAKECAM_API int close(int fd)
{
	struct fakecam_file *f;
	int ret;

	fakecam_init();
	if (atomic_load(&nfds) == 0)
		return real.close(fd);
	pthread_mutex_lock(&fakecam_lock);
	f = fd_take(fd);
	/* The real close happens with the lock held, so the number is not reused by an open that
	 * could find a stale entry. */
	ret = real.close(fd);
	if (f) {
		fakecam_log("close(%d)", fd);
		fakecam_file_put(f);
	}
	pthread_mutex_unlock(&fakecam_lock);
	return ret;
}

/* ---- dup: the new fd shares the open, as with a real device ---- */

static int dup_done(int oldfd, int newfd)
{
	struct fakecam_file *f;

	if (newfd < 0 || atomic_load(&nfds) == 0)
		return newfd;
	pthread_mutex_lock(&fakecam_lock);
	if (oldfd != newfd) {
		f = fd_take(newfd); /* dup2 onto a fake fd closed it */
		if (f)
			fakecam_file_put(f);
	}
	f = fd_find(oldfd);
	if (f && fd_find(newfd) != f && fd_add(newfd, f)) {
		real.close(newfd);
		errno = EMFILE;
		newfd = -1;
	}
	pthread_mutex_unlock(&fakecam_lock);
	return newfd;
}

FAKECAM_API int dup(int fd)
{
	fakecam_init();
	return dup_done(fd, real.dup(fd));
}

FAKECAM_API int dup2(int fd, int fd2)
{
	fakecam_init();
	return dup_done(fd, real.dup2(fd, fd2));
}

FAKECAM_API int dup3(int fd, int fd2, int flags)
{
	fakecam_init();
	return dup_done(fd, real.dup3(fd, fd2, flags));
}

/* glibc's own fcntl reads its third argument as a pointer whatever the command, and so can we. */
static int fcntl_common(int fd, int cmd, void *arg)
{
	fakecam_init();
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_done(fd, real.fcntl(fd, cmd, arg));
	return real.fcntl(fd, cmd, arg);
}

FAKECAM_API int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

FAKECAM_API int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

/* ---- ioctl and mmap ---- */

FAKECAM_API int ioctl(int fd, unsigned long req, ...)
{
	struct fakecam_file *f;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	fakecam_init();
	if (atomic_load(&nfds) == 0)
		return real.ioctl(fd, req, arg);
	pthread_mutex_lock(&fakecam_lock);
	f = fd_find(fd);
	if (!f) {
		pthread_mutex_unlock(&fakecam_lock);
		return real.ioctl(fd, req, arg);
	}
	fakecam_file_get(f); /* a close in another thread must not free it under us */
	/* The kernel takes the request as an unsigned int; callers that pass it as an int
	 * (uStreamer) sign-extend it to 0xffffffff8... in the unsigned long. */
	req = (unsigned int)req;
	ret = fakecam_ioctl_locked(f, fd, req, arg);
	if (ret < 0)
		fakecam_log("ioctl(%d, %s) = -1 %s", fd, fakecam_ioctl_name(req), strerror(-ret));
	else
		fakecam_log("ioctl(%d, %s) = 0", fd, fakecam_ioctl_name(req));
	fakecam_file_put(f);
	pthread_mutex_unlock(&fakecam_lock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* A buffer's mapping is a real shared mapping of the device's memfd: the client may unmap it
 * whenever it likes (munmap needs no interposer) and it outlives REQBUFS(0), as vb2's does. */
FAKECAM_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct fakecam_file *f;
	struct fakecam_dev *d;
	void *p = MAP_FAILED;
	size_t idx;
	int err = 0;

	fakecam_init();
	if (fd < 0 || atomic_load(&nfds) == 0)
		return real.mmap(addr, len, prot, flags, fd, off);
	pthread_mutex_lock(&fakecam_lock);
	f = fd_find(fd);
	if (!f) {
		pthread_mutex_unlock(&fakecam_lock);
		return real.mmap(addr, len, prot, flags, fd, off);
	}
	d = f->dev;
	idx = d->buf_stride ? (size_t)off / d->buf_stride : 0;
	if (d->gone)
		err = ENODEV;
	else if (!(flags & MAP_SHARED) || !d->nbufs || off < 0 || len == 0 ||
		 (size_t)off % d->buf_stride || idx >= (size_t)d->nbufs || len > d->buf_stride)
		err = EINVAL; /* vb2: a shared mapping of exactly one buffer, at its offset */
	else {
		p = real.mmap(addr, len, prot, flags, d->memfd, off);
		if (p == MAP_FAILED)
			err = errno;
		else
			d->bufs[idx].mapped = 1;
	}
	fakecam_log("mmap(%d, len %zu, offset %lld) = %s", fd, len, (long long)off,
		    err ? strerror(err) : "ok");
	pthread_mutex_unlock(&fakecam_lock);
	if (err)
		errno = err;
	return p;
}

FAKECAM_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/* ---- lookups for stat.c ---- */

int fakecam_lookup_path(const char *path, const struct fakecam_port **port)
{
	struct fakecam_port *p;
	int present;

	fakecam_init();
	p = port_by_path(path);
	if (!p)
		return 0;
	pthread_mutex_lock(&fakecam_lock);
	present = port_present(p);
	pthread_mutex_unlock(&fakecam_lock);
	*port = p;
	return present ? 1 : -1;
}

const struct fakecam_port *fakecam_lookup_fd(int fd)
{
	const struct fakecam_port *p = NULL;
	struct fakecam_file *f;

	fakecam_init();
	if (atomic_load(&nfds) == 0)
		return NULL;
	pthread_mutex_lock(&fakecam_lock);
	f = fd_find(fd);
	if (f)
		p = f->dev->port;
	pthread_mutex_unlock(&fakecam_lock);
	return p;
}
