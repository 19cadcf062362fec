/*
 * fc-benchframes: the benchmark's pictures and its clock for programs that are not freshcam.
 *
 * It draws exactly the frames freshcam-send draws (the test pattern, or --photo with its noise),
 * so that tjbench and the peers (GStreamer, ffmpeg) work on the same pictures, and it reads the
 * stamp back out of what a peer decoded, so that a peer's frames are aged as exactly as
 * freshcam-view --check-stamps ages freshcam's (same host, same CLOCK_MONOTONIC).
 *
 *   fc-benchframes ppm   --size WxH [--photo F] --out FILE        frame 1 as an RGB PPM (tjbench)
 *   fc-benchframes write --size WxH [--photo F] --frames N --out PREFIX
 *                                          N raw I420 frames, PREFIX000.yuv, PREFIX001.yuv, ...
 *   fc-benchframes live  --size WxH [--photo F] --fps R --seconds S
 *                                          stamped I420 frames to stdout at R a second, drawn and
 *                                          stamped when due (a late reader costs frames, as a
 *                                          camera drops them), for S seconds
 *   fc-benchframes ages  --size WxH --seconds S --out FILE
 *                                          I420 frames on stdin (a decoder's output): one line
 *                                          "t_s age_ms" per stamped frame, t from the first frame
 *   fc-benchframes stamps --size WxH --out FILE
 *                                          JPEG file names on stdin, one a line (a recording's
 *                                          frames, pictures of WxH or renditions of them): one
 *                                          line "name capture_ns" per frame whose stamp reads
 *
 * A benchmark tool: one thread, exits on any error with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "clock.h"
#include "image.h"
#include "pattern.h"
#include "photo.h"
#include "stamp.h"

struct args {
	const char *mode;
	const char *photo;
	const char *out;
	int width;
	int height;
	int frames;
	double fps;
	double seconds;
};

/* The pattern or the photo, drawn through one call. */
struct source {
	struct fc_pattern *pattern;
	struct fc_photo *photo;
};

static void die(const char *what)
{
	fprintf(stderr, "fc-benchframes: %s\n", what);
	exit(1);
}

static void source_open(struct source *s, const struct args *a)
{
	char err[512];

	memset(s, 0, sizeof(*s));
	if (a->photo)
		s->photo = fc_photo_new(a->photo, a->width, a->height, err, sizeof(err));
	else
		s->pattern = fc_pattern_new(a->width, a->height, err, sizeof(err));
	if (!s->photo && !s->pattern)
		die(err);
}

static void source_draw(struct source *s, uint64_t seq, uint64_t ns, struct fc_image *img)
{
	if (s->photo)
		fc_photo_draw(s->photo, seq, ns, img);
	else
		fc_pattern_draw(s->pattern, seq, ns, img);
}

static void source_close(struct source *s)
{
	fc_photo_free(s->photo);
	fc_pattern_free(s->pattern);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_planes(int fd, const struct fc_image *img)
{
	for (int i = 0; i < 3; i++) {
		int w = i ? img->width / 2 : img->width;
		int h = i ? img->height / 2 : img->height;

		for (int y = 0; y < h; y++)
			if (write_all(fd, img->plane[i] + (size_t)y * (size_t)img->stride[i],
				      (size_t)w) < 0)
				return -1;
	}
	return 0;
}

static void mode_ppm(const struct args *a)
{
	struct source s;
	struct fc_image img;
	tjhandle tj = tjInitDecompress();
	size_t n = (size_t)a->width * (size_t)a->height * 3;
	uint8_t *rgb = malloc(n);
	const unsigned char *planes[3];
	FILE *f;

	if (!tj || !rgb)
		die("out of memory");
	source_open(&s, a);
	source_draw(&s, 1, 0, &img);
	memcpy(planes, img.plane, sizeof(planes));
	if (tjDecodeYUVPlanes(tj, planes, img.stride, TJSAMP_420, rgb, a->width, 0, a->height,
			      TJPF_RGB, 0) < 0)
		die(tjGetErrorStr2(tj));
	f = fopen(a->out, "wb");
	if (!f || fprintf(f, "P6\n%d %d\n255\n", a->width, a->height) < 0 ||
	    fwrite(rgb, 1, n, f) != n || fclose(f) != 0)
		die("cannot write the PPM");
	free(rgb);
	tjDestroy(tj);
	source_close(&s);
}

static void mode_write(const struct args *a)
{
	struct source s;
	char path[4096];

	source_open(&s, a);
	for (int k = 0; k < a->frames; k++) {
		struct fc_image img;
		int fd;

		source_draw(&s, (uint64_t)k + 1, 0, &img);
		snprintf(path, sizeof(path), "%s%03d.yuv", a->out, k);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write_planes(fd, &img) < 0 || close(fd) < 0)
			die("cannot write a frame");
	}
	source_close(&s);
}

static void mode_live(const struct args *a)
{
	struct source s;
	uint64_t period = (uint64_t)(1e9 / a->fps);
	uint64_t start = fc_clock_now_ns();
	uint64_t end = start + (uint64_t)(a->seconds * 1e9);
	uint64_t next = start;

	/* A pipe as large as allowed: a frame goes over in one or two writes, not twenty. */
	(void)fcntl(1, F_SETPIPE_SZ, 1 << 20);
	source_open(&s, a);
	for (uint64_t seq = 1; fc_clock_now_ns() < end; seq++) {
		struct fc_image img;
		uint64_t t;

		fc_clock_sleep_until(next);
		t = fc_clock_now_ns();
		source_draw(&s, seq, t, &img);
		if (write_planes(1, &img) < 0)
			break; /* the reader is gone */
		next += period;
		if (next < fc_clock_now_ns()) /* late: drop what is overdue, as a camera does */
			next += (fc_clock_now_ns() - next) / period * period + period;
	}
	source_close(&s);
}

static void mode_ages(const struct args *a)
{
	size_t frame = (size_t)a->width * (size_t)a->height * 3 / 2;
	uint8_t *buf = malloc(frame);
	FILE *out = fopen(a->out, "w");
	uint64_t first = 0;
	uint64_t end = fc_clock_now_ns() + (uint64_t)(a->seconds * 1e9);

	if (!buf || !out)
		die("cannot start");
	(void)fcntl(0, F_SETPIPE_SZ, 1 << 20);
	while (fc_clock_now_ns() < end) {
		size_t got = 0;
		struct fc_stamp st;
		uint64_t now;

		while (got < frame) {
			ssize_t k = read(0, buf + got, frame - got);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				goto done;
			got += (size_t)k;
		}
		now = fc_clock_now_ns();
		if (!first)
			first = now;
		if (fc_stamp_read(buf, 1, (size_t)a->width, a->width, a->height, &st) == 0 &&
		    st.capture_ns && st.capture_ns <= now)
			fprintf(out, "%.4f %.4f\n", (double)(now - first) / 1e9,
				(double)(now - st.capture_ns) / 1e6);
	}
done:
	if (fclose(out) != 0)
		die("cannot write the ages");
	free(buf);
}

/* Reads the file's bytes into *buf (grown as needed); their count, or 0 when it cannot. */
static size_t slurp(const char *name, uint8_t **buf, size_t *cap)
{
	FILE *f = fopen(name, "rb");
	size_t n = 0;

	if (!f)
		return 0;
	for (;;) {
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 1 << 20;
			*buf = realloc(*buf, *cap);
			if (!*buf)
				die("out of memory");
		}
		size_t k = fread(*buf + n, 1, *cap - n, f);

		n += k;
		if (k == 0)
			break;
	}
	fclose(f);
	return n;
}

static void mode_stamps(const struct args *a)
{
	tjhandle tj = tjInitDecompress();
	FILE *out = fopen(a->out, "w");
	uint8_t *jpeg = NULL, *luma = malloc((size_t)a->width * (size_t)a->height);
	size_t cap = 0;
	char name[4096];

	if (!tj || !out || !luma)
		die("cannot start");
	while (fgets(name, sizeof(name), stdin)) {
		size_t n, len = strcspn(name, "\n");
		int w, h, sub, cs;
		struct fc_stamp st;

		name[len] = '\0';
		n = slurp(name, &jpeg, &cap);
		if (!n || tjDecompressHeader3(tj, jpeg, (unsigned long)n, &w, &h, &sub, &cs) != 0 ||
		    w > a->width || h > a->height ||
		    tjDecompress2(tj, jpeg, (unsigned long)n, luma, w, w, h, TJPF_GRAY,
				  TJFLAG_ACCURATEDCT) != 0)
			continue;
		if (fc_stamp_read_scaled(luma, 1, (size_t)w, w, h, a->width, a->height, &st) == 0)
			fprintf(out, "%s %llu\n", name, (unsigned long long)st.capture_ns);
	}
	if (fclose(out) != 0)
		die("cannot write the stamps");
	free(jpeg);
	free(luma);
	tjDestroy(tj);
}

static void usage(void)
{
	fprintf(stderr, "usage: fc-benchframes ppm|write|live|ages|stamps --size WxH [--photo FILE] "
			"[--out PATH] [--frames N] [--fps R] [--seconds S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct args a = { .frames = 1, .fps = 30, .seconds = 10 };

	if (argc < 2)
		usage();
	a.mode = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i];
		const char *v = argv[i + 1];

		if (strcmp(k, "--size") == 0 && sscanf(v, "%dx%d", &a.width, &a.height) == 2)
			continue;
		if (strcmp(k, "--photo") == 0)
			a.photo = v;
		else if (strcmp(k, "--out") == 0)
			a.out = v;
		else if (strcmp(k, "--frames") == 0)
			a.frames = (int)strtol(v, NULL, 10);
		else if (strcmp(k, "--fps") == 0)
			a.fps = strtod(v, NULL);
		else if (strcmp(k, "--seconds") == 0)
			a.seconds = strtod(v, NULL);
		else
			usage();
	}
	if (a.width < 2 || a.height < 2 || a.frames < 1 || a.fps <= 0 || a.seconds <= 0)
		usage();
	if (strcmp(a.mode, "live") == 0)
		mode_live(&a);
	else if (!a.out)
		usage();
	else if (strcmp(a.mode, "ppm") == 0)
		mode_ppm(&a);
	else if (strcmp(a.mode, "write") == 0)
		mode_write(&a);
	else if (strcmp(a.mode, "ages") == 0)
		mode_ages(&a);
	else if (strcmp(a.mode, "stamps") == 0)
		mode_stamps(&a);
	else
		usage();
	return 0;
}
