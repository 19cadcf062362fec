/* Tests of viewer/record/record.c and its writers (record_dir.c, record_av.c): what a recording holds,
 * how it is named, and what a full disk, a slow disk or a kill leaves. Containers are read back
 * with libavformat's demuxers and, where it matters that a player can show them, decoded with
 * libavcodec's MJPEG decoder set up from the container as a player sets it up; a full disk is a real failing write (RLIMIT_FSIZE: the kernel
 * fails the write that would grow a file past the limit, partway, as a full disk does); a slow
 * disk is a FIFO nobody reads. The threaded tests also run under TSan and ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "clock.h"
#include "frame.h"
#include "record.h"

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

#define FRAME_GAP_NS (40 * FC_NS_PER_MS)
#define T0_NS	     (1000 * FC_NS_PER_S)

static char tmp[256]; /* this test's scratch directory, removed at the end */
static struct fc_frame_pool *pool;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/fc-test-record-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	pool = fc_frame_pool_new(4);
	/* A write past RLIMIT_FSIZE must fail with EFBIG, not kill the test with SIGXFSZ. */
	signal(SIGXFSZ, SIG_IGN);
	av_log_set_level(AV_LOG_QUIET);
	return pool ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	fc_frame_pool_release(pool);
	return 0;
}

static const char *at(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	return path;
}

/* A real JPEG, grey of the given shade, with the metadata the network thread sets. */
static struct fc_frame *jpeg_frame(uint64_t seq, int w, int h, uint64_t recv_ns)
{
	tjhandle tj = tjInitCompress();
	uint8_t *pixels = malloc((size_t)w * (size_t)h);
	unsigned char *jpeg = NULL;
	unsigned long size = 0;
	struct fc_frame *f;

	assert_non_null(tj);
	assert_non_null(pixels);
	for (int i = 0; i < w * h; i++)
		pixels[i] = (uint8_t)(seq * 37 + (unsigned)i % (unsigned)w);
	assert_int_equal(
	    tjCompress2(tj, pixels, w, 0, h, TJPF_GRAY, &jpeg, &size, TJSAMP_GRAY, 90, 0), 0);
	f = fc_frame_get(pool, size);
	assert_non_null(f);
	memcpy(f->data, jpeg, size);
	f->size = size;
	f->seq = seq;
	f->width = (uint16_t)w;
	f->height = (uint16_t)h;
	f->src_width = (uint16_t)w; /* the full picture; renditions() says otherwise */
	f->src_height = (uint16_t)h;
	f->quality = 90;
	f->recv_ns = recv_ns;
	f->bound_ns = 1000000 + seq * 1000; /* 1.00x ms: distinct per frame */
	tjFree(jpeg);
	tjDestroy(tj);
	free(pixels);
	return f;
}

/* Marks f as a rendition of a src_w x src_h picture at a JPEG quality, as a FRAME says. */
static struct fc_frame *as_rendition(struct fc_frame *f, int src_w, int src_h, int quality)
{
	f->src_width = (uint16_t)src_w;
	f->src_height = (uint16_t)src_h;
	f->quality = (uint8_t)quality;
	return f;
}

/* Any bytes of a given size: where only the size matters. */
static struct fc_frame *blob_frame(uint64_t seq, size_t size, uint64_t recv_ns)
{
	struct fc_frame *f = fc_frame_get(pool, size);

	assert_non_null(f);
	memset(f->data, (int)(seq & 0xff), size);
	f->size = size;
	f->seq = seq;
	f->width = 64;
	f->height = 48;
	f->recv_ns = recv_ns;
	return f;
}

/* Pushes and drops the caller's reference, as the network thread's slot publish does. */
static void push(struct fc_record *r, struct fc_frame *f)
{
	fc_record_push(r, f);
	fc_frame_unref(f);
}

/* Waits (bounded) until the recorder has written n frames or stopped; returns its status. */
static struct fc_record_status wait_written(struct fc_record *r, uint64_t n)
{
	struct fc_record_status st;
	uint64_t end = fc_clock_now_ns() + 5 * FC_NS_PER_S;

	do {
		fc_record_status(r, &st);
		if (st.written >= n || st.stopped)
			return st;
		usleep(1000);
	} while (fc_clock_now_ns() < end);
	fail_msg("the recorder wrote %llu of %llu frames in 5 s", (unsigned long long)st.written,
		 (unsigned long long)n);
	return st;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* What a demuxer reads back from a container. */
struct readback {
	int packets;
	int width, height;
	enum AVCodecID codec;
	bool increasing; /* every packet's pts is larger than the one before */
	int64_t pts_ms[64];
	uint32_t crc[64]; /* of each packet's bytes */
	char comment[256];
	/* With decode: what the MJPEG decoder made of the packets, opened from the stream's
	 * parameters as a player opens it. */
	int decoded;
	int decode_errors;
	int dec_w[64], dec_h[64];
};

/* Decodes one packet (NULL: drain) into rb's counts. */
static void decode_packet(AVCodecContext *dec, AVFrame *frame, const AVPacket *pkt,
			  struct readback *rb)
{
	if (avcodec_send_packet(dec, pkt) < 0)
		rb->decode_errors++;
	for (;;) {
		int rc = avcodec_receive_frame(dec, frame);

		if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
			return;
		if (rc < 0) {
			rb->decode_errors++;
			return;
		}
		if (rb->decoded < 64) {
			rb->dec_w[rb->decoded] = frame->width;
			rb->dec_h[rb->decoded] = frame->height;
		}
		rb->decoded++;
		av_frame_unref(frame);
	}
}

static AVCodecContext *open_decoder(const AVStream *st)
{
	AVCodecContext *dec = avcodec_alloc_context3(avcodec_find_decoder(AV_CODEC_ID_MJPEG));

	assert_non_null(dec);
	assert_true(avcodec_parameters_to_context(dec, st->codecpar) >= 0);
	assert_int_equal(avcodec_open2(dec, NULL, NULL), 0);
	return dec;
}

static int read_container_decode(const char *path, struct readback *rb, bool decode)
{
	AVFormatContext *ctx = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	AVCodecContext *dec = NULL;
	AVDictionaryEntry *tag;
	int64_t last = INT64_MIN;

	memset(rb, 0, sizeof(*rb));
	rb->increasing = true;
	if (avformat_open_input(&ctx, path, NULL, NULL) < 0) {
		av_packet_free(&pkt);
		av_frame_free(&frame);
		return -1;
	}
	if (ctx->nb_streams != 1) {
		avformat_close_input(&ctx);
		av_packet_free(&pkt);
		av_frame_free(&frame);
		return -1;
	}
	rb->codec = ctx->streams[0]->codecpar->codec_id;
	rb->width = ctx->streams[0]->codecpar->width;
	rb->height = ctx->streams[0]->codecpar->height;
	tag = av_dict_get(ctx->metadata, "comment", NULL, 0);
	snprintf(rb->comment, sizeof(rb->comment), "%s", tag ? tag->value : "");
	if (decode)
		dec = open_decoder(ctx->streams[0]);
	while (av_read_frame(ctx, pkt) >= 0) {
		if (pkt->size > 0) {
			int64_t ms = av_rescale_q(pkt->pts, ctx->streams[0]->time_base,
						  (AVRational){ 1, 1000 });

			if (rb->packets < 64) {
				rb->pts_ms[rb->packets] = ms;
				rb->crc[rb->packets] =
				    (uint32_t)crc32(0, pkt->data, (uInt)pkt->size);
			}
			rb->increasing = rb->increasing && pkt->pts > last;
			last = pkt->pts;
			rb->packets++;
			if (dec)
				decode_packet(dec, frame, pkt, rb);
		}
		av_packet_unref(pkt);
	}
	if (dec)
		decode_packet(dec, frame, NULL, rb);
	avcodec_free_context(&dec);
	avformat_close_input(&ctx);
	av_packet_free(&pkt);
	av_frame_free(&frame);
	return 0;
}

static int read_container(const char *path, struct readback *rb)
{
	return read_container_decode(path, rb, false);
}

/* Each frame becomes a zero-padded, sortable file holding exactly its bytes, and index.csv has
 * its header and one line per frame: file, seq, wall-clock and relative receive times, age bound,
 * size, zlib CRC-32 (what python's zlib.crc32 gives), width, height, and then (added at the end,
 * so that older readers keep working) the JPEG quality and the picture's size: frames that are
 * renditions of a larger picture (a fresh viewer's first ones, a slow link's) say so. */
static void test_dir_files_and_index(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r;
	/* A fresh viewer's start: a quarter, a half, then the full picture. */
	const int dims[3][3] = { { 16, 12, 50 }, { 32, 24, 70 }, { 64, 48, 90 } };
	uint32_t crcs[3];
	size_t sizes[3];
	char *index;
	char *line;
	char *save = NULL;
	size_t len;
	unsigned long long prev_unix = 0;
	uint64_t now;
	uint64_t before_unix = (uint64_t)time(NULL) * FC_NS_PER_S;

	(void)state;
	r = fc_record_open(at("rec"), NULL, err, sizeof(err));
	assert_non_null(r);
	assert_contains(fc_record_describe(r), "index.csv");
	now = fc_clock_now_ns();
	for (int i = 0; i < 3; i++) {
		/* Received "now" and 40 ms apart, so that the wall clock column is checkable. */
		struct fc_frame *f =
		    as_rendition(jpeg_frame(100 + (uint64_t)i, dims[i][0], dims[i][1],
					    now + (uint64_t)i * FRAME_GAP_NS),
				 64, 48, dims[i][2]);

		crcs[i] = (uint32_t)crc32(0, f->data, (uInt)f->size);
		sizes[i] = f->size;
		push(r, f);
	}
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), 0);
	assert_int_equal(st.written, 3);
	assert_int_equal(st.behind + st.lost, 0);

	for (int i = 0; i < 3; i++) {
		char name[32];
		uint8_t *data;

		snprintf(name, sizeof(name), "rec/%08d.jpg", i + 1);
		data = slurp(at(name), &len);
		assert_non_null(data);
		assert_int_equal(len, sizes[i]);
		assert_int_equal((uint32_t)crc32(0, data, (uInt)len), crcs[i]);
		free(data);
	}
	assert_int_equal(count_entries(at("rec")), 4);
	index = (char *)slurp(at("rec/index.csv"), &len);
	assert_non_null(index);
	line = strtok_r(index, "\n", &save);
	assert_string_equal(line,
			    "file,seq,recv_unix_ns,recv_rel_ns,age_bound_ms,bytes,crc32,width,"
			    "height,quality,src_width,src_height");
	for (int i = 0; i < 3; i++) {
		char file[32], expect_file[32];
		unsigned long long seq, unix_ns, rel_ns;
		double bound_ms;
		size_t bytes;
		unsigned crc, w, h, q, sw, sh;

		line = strtok_r(NULL, "\n", &save);
		assert_non_null(line);
		assert_int_equal(sscanf(line, "%31[^,],%llu,%llu,%llu,%lf,%zu,%x,%u,%u,%u,%u,%u",
					file, &seq, &unix_ns, &rel_ns, &bound_ms, &bytes, &crc, &w,
					&h, &q, &sw, &sh),
				 12);
		snprintf(expect_file, sizeof(expect_file), "%08d.jpg", i + 1);
		assert_string_equal(file, expect_file);
		assert_int_equal(seq, 100 + i);
		assert_int_equal(rel_ns, (uint64_t)i * FRAME_GAP_NS);
		/* The wall clock: within a few seconds of now, and 40 ms apart like the frames. */
		assert_true(unix_ns >= before_unix - FC_NS_PER_S);
		assert_true(unix_ns <= before_unix + 10 * FC_NS_PER_S);
		if (i > 0)
			assert_int_equal(unix_ns - prev_unix, FRAME_GAP_NS);
		prev_unix = unix_ns;
		assert_in_range(bound_ms * 1000, 1000 + (100 + i) - 1, 1000 + (100 + i) + 1);
		assert_int_equal(bytes, sizes[i]);
		assert_int_equal(crc, crcs[i]);
		assert_int_equal(w, dims[i][0]);
		assert_int_equal(h, dims[i][1]);
		assert_int_equal(q, dims[i][2]);
		assert_int_equal(sw, 64);
		assert_int_equal(sh, 48);
	}
	assert_null(strtok_r(NULL, "\n", &save));
	free(index);
}

/* A line of the index is on disk as soon as its frame is written, not at close: a viewer killed
 * mid-recording leaves an index of complete lines naming complete files. */
static void test_dir_index_written_as_it_goes(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record *r = fc_record_open(at("live"), NULL, err, sizeof(err));
	char *index;
	size_t len;

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < 5; i++)
		push(r, blob_frame(1 + (uint64_t)i, 1000, T0_NS + (uint64_t)i * FRAME_GAP_NS));
	wait_written(r, 5);
	index = (char *)slurp(at("live/index.csv"), &len);
	assert_non_null(index);
	assert_int_equal(count_lines(index), 6);
	assert_int_equal(index[len - 1], '\n');
	free(index);
	assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);
}

/* A directory is created when missing, taken when empty, and refused, saying why and what to do,
 * when it holds anything (an earlier recording is named as such) or cannot be made. */
static void test_dir_refuses_what_it_should(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record *r;
	FILE *fp;

	(void)state;
	assert_int_equal(mkdir(at("empty"), 0777), 0);
	r = fc_record_open(at("empty"), NULL, err, sizeof(err));
	assert_non_null(r);
	push(r, blob_frame(1, 100, T0_NS));
	assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);

	/* Now it holds a recording: a second one is refused. */
	assert_null(fc_record_open(at("empty"), NULL, err, sizeof(err)));
	assert_contains(err, at("empty"));
	assert_contains(err, "already holds files");
	assert_contains(err, "an earlier recording");
	assert_contains(err, "new directory");

	assert_int_equal(mkdir(at("other"), 0777), 0);
	fp = fopen(at("other/notes.txt"), "w");
	assert_non_null(fp);
	fclose(fp);
	assert_null(fc_record_open(at("other/"), NULL, err, sizeof(err)));
	assert_contains(err, "notes.txt");

	assert_null(fc_record_open(at("no/such/parent"), NULL, err, sizeof(err)));
	assert_contains(err, "cannot create directory");
	assert_contains(err, "No such file or directory");
}

/* The path says what is written: .mkv/.mp4/.avi (any case) a container, anything else that does
 * not exist a new directory; an unknown extension is refused with the list of what works, and an
 * existing file is never overwritten. What exists decides first: a directory named x.mkv is a
 * directory. */
static void test_path_kinds(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record *r;
	FILE *fp;

	(void)state;
	assert_null(fc_record_open(at("clip.mov"), NULL, err, sizeof(err)));
	assert_contains(err, ".mov is not a format");
	assert_contains(err, ".mkv, .mp4 or .avi");
	assert_contains(err, "directory");
	assert_int_equal(access(at("clip.mov"), F_OK), -1);

	r = fc_record_open(at("clip.v2/"), NULL, err, sizeof(err));
	assert_non_null(r);
	assert_contains(fc_record_describe(r), "index.csv");
	push(r, blob_frame(1, 100, T0_NS));
	fc_record_close(r, NULL, err, sizeof(err));

	r = fc_record_open(at("CLIP.MKV"), NULL, err, sizeof(err));
	assert_non_null(r);
	assert_contains(fc_record_describe(r), "Matroska");
	fc_record_close(r, NULL, err, sizeof(err));

	fp = fopen(at("taken.mkv"), "w");
	assert_non_null(fp);
	fputs("precious", fp);
	fclose(fp);
	assert_null(fc_record_open(at("taken.mkv"), NULL, err, sizeof(err)));
	assert_contains(err, "it exists");
	assert_null(fc_record_open(at("taken.mkv/"), NULL, err, sizeof(err)));

	assert_int_equal(mkdir(at("dir.mkv"), 0777), 0);
	r = fc_record_open(at("dir.mkv"), NULL, err, sizeof(err));
	assert_non_null(r);
	assert_contains(fc_record_describe(r), "index.csv");
	fc_record_close(r, NULL, err, sizeof(err));
}

/* A recording that never got a frame leaves nothing behind (an empty .mkv is not a video, and an
 * empty directory would make the next run with the same path refuse). */
static void test_empty_recording_leaves_nothing(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record *r;

	(void)state;
	r = fc_record_open(at("nothing"), NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(access(at("nothing/index.csv"), F_OK), 0);
	assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);
	assert_int_equal(access(at("nothing"), F_OK), -1);

	r = fc_record_open(at("nothing.mkv"), NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);
	assert_int_equal(access(at("nothing.mkv"), F_OK), -1);
}

/* Runs fn with writes past limit bytes per file failing, as a full disk fails them. */
static void with_file_limit(rlim_t limit, void (*fn)(void))
{
	struct rlimit old, lim;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	fn();
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
}

static void dir_full(void)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r = fc_record_open(at("full"), NULL, err, sizeof(err));
	char *index;
	size_t len;

	assert_non_null(r);
	for (int i = 0; i < 3; i++)
		push(r, blob_frame(1 + (uint64_t)i, 1000, T0_NS + (uint64_t)i * FRAME_GAP_NS));
	/* Larger than the limit: its write fails partway. */
	push(r, blob_frame(4, 64 * 1024, T0_NS + 3 * FRAME_GAP_NS));
	st = wait_written(r, 4);
	assert_true(st.stopped);
	assert_int_equal(st.written, 3);
	assert_contains(st.error, at("full/00000004.jpg"));
	assert_contains(st.error, strerror(EFBIG));
	/* Stopped for good: later frames are counted, not written. */
	push(r, blob_frame(5, 100, T0_NS + 4 * FRAME_GAP_NS));
	push(r, blob_frame(6, 100, T0_NS + 5 * FRAME_GAP_NS));
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), -1);
	assert_contains(err, "00000004.jpg");
	assert_int_equal(st.written, 3);
	assert_int_equal(st.lost, 3); /* the failed one and the two after */
	assert_int_equal(st.behind, 0);
	/* What was written is whole: no partial 4th file, and the index lists exactly the rest. */
	assert_int_equal(access(at("full/00000004.jpg"), F_OK), -1);
	assert_int_equal(count_entries(at("full")), 4);
	index = (char *)slurp(at("full/index.csv"), &len);
	assert_non_null(index);
	assert_int_equal(count_lines(index), 4);
	free(index);
}

/* A frame file that cannot be written completely (a full disk) stops the recording: the partial
 * file is removed, the index lists exactly the complete files, the reason names the file and the
 * error, and every frame not written is counted. */
static void test_dir_write_fails(void **state)
{
	(void)state;
	with_file_limit(32 * 1024, dir_full);
}

static void index_full(void)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r = fc_record_open(at("ifull"), NULL, err, sizeof(err));
	char *index;
	size_t len;
	int files;

	assert_non_null(r);
	for (int i = 0; i < 20; i++)
		push(r, blob_frame(1 + (uint64_t)i, 100, T0_NS + (uint64_t)i * FRAME_GAP_NS));
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), -1);
	assert_true(st.stopped);
	assert_contains(st.error, at("ifull/index.csv"));
	assert_true(st.written > 0 && st.written < 20);
	assert_int_equal(st.written + st.lost, 20);
	index = (char *)slurp(at("ifull/index.csv"), &len);
	assert_non_null(index);
	files = count_entries(at("ifull")) - 1;
	/* Complete lines only (the cut one is gone), one per file present. */
	assert_int_equal(index[len - 1], '\n');
	assert_int_equal(count_lines(index) - 1, st.written);
	assert_int_equal(files, st.written);
	free(index);
}

/* When the index itself cannot grow, the half-written line is cut and the frame it would have
 * listed removed: the index stays parseable and matches the files. */
static void test_dir_index_write_fails(void **state)
{
	(void)state;
	with_file_limit(700, index_full);
}

/* A .mkv holds the JPEGs byte for byte as one MJPEG stream of the first frame's size, each at its
 * receive time relative to the first (ms), and a demuxer reads them all back. */
static void test_mkv_stream_copy(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r = fc_record_open(at("clip.mkv"), NULL, err, sizeof(err));
	struct readback rb;
	uint32_t crcs[5];

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < 5; i++) {
		struct fc_frame *f = jpeg_frame(10 + (uint64_t)i, 64, 48,
						T0_NS + (uint64_t)i * FRAME_GAP_NS + (uint64_t)i);

		crcs[i] = (uint32_t)crc32(0, f->data, (uInt)f->size);
		push(r, f);
	}
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), 0);
	assert_int_equal(st.written, 5);
	assert_int_equal(read_container(at("clip.mkv"), &rb), 0);
	assert_int_equal(rb.codec, AV_CODEC_ID_MJPEG);
	assert_int_equal(rb.width, 64);
	assert_int_equal(rb.height, 48);
	assert_int_equal(rb.packets, 5);
	assert_true(rb.increasing);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rb.pts_ms[i], i * 40);
		assert_int_equal(rb.crc[i], crcs[i]);
	}
}

/* Frames that arrive within one tick of the container's clock (or, after a reconnection, with
 * times out of order) still get strictly increasing timestamps, as every muxer requires. */
static void test_timestamps_always_increase(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record *r = fc_record_open(at("same.mkv"), NULL, err, sizeof(err));
	struct readback rb;
	uint64_t t[] = { T0_NS, T0_NS, T0_NS + 100, T0_NS + FRAME_GAP_NS, T0_NS + FRAME_GAP_NS };

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < 5; i++)
		push(r, jpeg_frame(1 + (uint64_t)i, 32, 32, t[i]));
	assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);
	assert_int_equal(read_container(at("same.mkv"), &rb), 0);
	assert_int_equal(rb.packets, 5);
	assert_true(rb.increasing);
}

/* While recording, the .mkv on disk already reads back up to the last frame written: what a
 * SIGKILL at that moment would leave (the file has no trailer yet). */
static void test_mkv_readable_before_close(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record *r = fc_record_open(at("live.mkv"), NULL, err, sizeof(err));
	struct readback rb;

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < 7; i++)
		push(r, jpeg_frame(1 + (uint64_t)i, 64, 48, T0_NS + (uint64_t)i * FRAME_GAP_NS));
	wait_written(r, 7);
	assert_int_equal(read_container(at("live.mkv"), &rb), 0);
	assert_int_equal(rb.packets, 7);
	assert_int_equal(rb.codec, AV_CODEC_ID_MJPEG);
	assert_true(rb.increasing);
	assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);
}

/* .mp4 (fragmented) and .avi take the MJPEG stream too, and read back whole. */
static void test_mp4_and_avi(void **state)
{
	const char *names[] = { "clip.mp4", "clip.avi" };

	(void)state;
	for (int k = 0; k < 2; k++) {
		char err[FC_RECORD_ERR_MAX];
		struct fc_record *r = fc_record_open(at(names[k]), NULL, err, sizeof(err));
		struct readback rb;
		uint32_t crcs[4];

		assert_non_null(r);
		for (int i = 0; i < 4; i++) {
			struct fc_frame *f =
			    jpeg_frame(1 + (uint64_t)i, 64, 48, T0_NS + (uint64_t)i * FRAME_GAP_NS);

			crcs[i] = (uint32_t)crc32(0, f->data, (uInt)f->size);
			push(r, f);
		}
		assert_int_equal(fc_record_close(r, NULL, err, sizeof(err)), 0);
		assert_int_equal(read_container(at(names[k]), &rb), 0);
		assert_int_equal(rb.codec, AV_CODEC_ID_MJPEG);
		assert_int_equal(rb.width, 64);
		assert_int_equal(rb.packets, 4);
		assert_true(rb.increasing);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(rb.crc[i], crcs[i]);
			/* Exact in MP4; on AVI's 10 ms grid, within a tick. */
			assert_in_range(rb.pts_ms[i], i ? i * 40 - 10 : 0, i * 40 + 10);
		}
	}
}

/* A size per frame, as a viewer gets them: it starts on a small rendition of a 128x96 picture,
 * the sender climbs to the full one, a slow second brings it down again, then a sender back at
 * another size (96x64). */
static const int sizes[][4] = {
	{ 32, 24, 128, 96 },  { 32, 24, 128, 96 }, { 64, 48, 128, 96 }, { 128, 96, 128, 96 },
	{ 128, 96, 128, 96 }, { 16, 12, 128, 96 }, { 64, 48, 128, 96 }, { 128, 96, 128, 96 },
	{ 96, 64, 96, 64 },   { 48, 32, 96, 64 },
};
#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))

/* Every frame goes into a video file whatever its size, byte for byte, at its time, and FFmpeg's
 * MJPEG decoder, set up from the file as a player sets it up, makes one picture of each packet at
 * that JPEG's own size: nothing lost, nothing merged. (A header giving the picture's size would
 * make it take the first, smaller JPEG for half of an interlaced picture and merge two frames.)
 * The file's comment names the picture's size. */
static void test_video_keeps_every_size(void **state)
{
	const char *names[] = { "sizes.mkv", "sizes.mp4", "sizes.avi" };

	(void)state;
	for (int k = 0; k < 3; k++) {
		char err[FC_RECORD_ERR_MAX];
		struct fc_record_status st;
		struct fc_record *r = fc_record_open(at(names[k]), NULL, err, sizeof(err));
		struct readback rb;
		uint32_t crcs[NSIZES];

		assert_non_null(r);
		for (int i = 0; i < NSIZES; i++) {
			struct fc_frame *f =
			    as_rendition(jpeg_frame(1 + (uint64_t)i, sizes[i][0], sizes[i][1],
						    T0_NS + (uint64_t)i * FRAME_GAP_NS),
					 sizes[i][2], sizes[i][3], 50 + i);

			crcs[i] = (uint32_t)crc32(0, f->data, (uInt)f->size);
			push(r, f);
		}
		assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), 0);
		assert_int_equal(st.written, NSIZES);
		assert_int_equal(st.lost + st.behind, 0);
		assert_false(st.stopped);
		assert_int_equal(read_container_decode(at(names[k]), &rb, true), 0);
		assert_int_equal(rb.codec, AV_CODEC_ID_MJPEG);
		assert_int_equal(rb.packets, NSIZES);
		assert_true(rb.increasing);
		assert_contains(rb.comment, "picture 128x96");
		assert_int_equal(rb.decode_errors, 0);
		assert_int_equal(rb.decoded, NSIZES);
		for (int i = 0; i < NSIZES; i++) {
			assert_int_equal(rb.crc[i], crcs[i]);
			assert_in_range(rb.pts_ms[i], i ? i * 40 - 10 : 0, i * 40 + 10);
			assert_int_equal(rb.dec_w[i], sizes[i][0]);
			assert_int_equal(rb.dec_h[i], sizes[i][1]);
		}
	}
}

/* A directory keeps every size too, each listed with its own. */
static void test_dir_keeps_every_size(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r = fc_record_open(at("sizes"), NULL, err, sizeof(err));

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < NSIZES; i++)
		push(r, jpeg_frame(1 + (uint64_t)i, sizes[i][0], sizes[i][1],
				   T0_NS + (uint64_t)i * FRAME_GAP_NS));
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), 0);
	assert_int_equal(st.written, NSIZES);
	assert_int_equal(count_entries(at("sizes")), NSIZES + 1);
}

static void mkv_full(void)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r = fc_record_open(at("full.mkv"), NULL, err, sizeof(err));
	struct readback rb;

	assert_non_null(r);
	for (int i = 0; i < 40; i++)
		push(r, blob_frame(1 + (uint64_t)i, 8000, T0_NS + (uint64_t)i * FRAME_GAP_NS));
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), -1);
	assert_true(st.stopped);
	assert_contains(st.error, at("full.mkv"));
	assert_contains(st.error, strerror(EFBIG));
	assert_true(st.written > 0 && st.written < 40);
	assert_int_equal(st.written + st.lost, 40);
	/* Readable up to the last complete frame. */
	assert_int_equal(read_container(at("full.mkv"), &rb), 0);
	assert_int_equal(rb.packets, (int)st.written);
	assert_true(rb.increasing);
}

/* A .mkv on a full disk: the recording stops with the file's name and the error, and the file is
 * left readable up to the last frame that was completely written. */
static void test_mkv_write_fails(void **state)
{
	(void)state;
	with_file_limit(100 * 1024, mkv_full);
}

struct drain {
	int fd;
	size_t bytes;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		d->bytes += (size_t)n;
	return NULL;
}

/* A disk slower than the stream (here a FIFO nobody reads yet) never makes fc_record_push wait:
 * the queue fills, the frames beyond it are counted as "behind", and once the disk catches up
 * everything queued is written; written + behind adds up to every frame pushed. */
static void test_slow_disk_never_blocks(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_cfg cfg = { .queue_frames = 4 };
	struct fc_record_status st;
	struct drain d = { 0 };
	struct fc_record *r;
	pthread_t reader;
	uint64_t t0;

	(void)state;
	assert_int_equal(mkfifo(at("slow.mkv"), 0600), 0);
	/* A reader must exist for the writer's open to return; it reads nothing yet. */
	d.fd = open(at("slow.mkv"), O_RDONLY | O_NONBLOCK);
	assert_true(d.fd >= 0);
	r = fc_record_open(at("slow.mkv"), &cfg, err, sizeof(err));
	assert_non_null(r);
	t0 = fc_clock_now_ns();
	/* 64 KB frames: the pipe's buffer holds one; the writer is stuck from the second on. */
	for (int i = 0; i < 50; i++)
		push(r, blob_frame(1 + (uint64_t)i, 64 * 1024, T0_NS + (uint64_t)i * FRAME_GAP_NS));
	/* Nobody reads the FIFO yet, so a push that waited for the disk would never return: the
	 * pushes returning is the proof. The bound only turns such a hang into a failure before
	 * ctest's timeout; it is not a speed (valgrind and TSan run this many times slower). */
	assert_true(fc_clock_now_ns() - t0 < 30 * FC_NS_PER_S);
	fc_record_status(r, &st);
	assert_false(st.stopped);
	assert_true(st.behind >= 50 - 4 - 2);
	assert_true(st.queued <= 4);
	fcntl(d.fd, F_SETFL, 0);
	assert_int_equal(pthread_create(&reader, NULL, drain_main, &d), 0);
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), 0);
	pthread_join(reader, NULL);
	close(d.fd);
	assert_int_equal(st.written + st.behind, 50);
	assert_true(st.written >= 4);
	assert_int_equal(st.lost, 0);
	assert_true(d.bytes >= st.written * 64 * 1024);
}

/* A frame the network thread could not copy (out of memory) is pushed as NULL and counted as not
 * written, so written + not written always adds up to the accepted frames. */
static void test_null_push_is_counted(void **state)
{
	char err[FC_RECORD_ERR_MAX];
	struct fc_record_status st;
	struct fc_record *r = fc_record_open(at("oom"), NULL, err, sizeof(err));

	(void)state;
	assert_non_null(r);
	push(r, blob_frame(1, 100, T0_NS));
	fc_record_push(r, NULL);
	push(r, blob_frame(3, 100, T0_NS + FRAME_GAP_NS));
	assert_int_equal(fc_record_close(r, &st, err, sizeof(err)), 0);
	assert_int_equal(st.written, 2);
	assert_int_equal(st.lost, 1);
	assert_int_equal(fc_frame_pool_outstanding(pool), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_files_and_index),
		cmocka_unit_test(test_dir_index_written_as_it_goes),
		cmocka_unit_test(test_dir_refuses_what_it_should),
		cmocka_unit_test(test_path_kinds),
		cmocka_unit_test(test_empty_recording_leaves_nothing),
		cmocka_unit_test(test_dir_write_fails),
		cmocka_unit_test(test_dir_index_write_fails),
		cmocka_unit_test(test_mkv_stream_copy),
		cmocka_unit_test(test_timestamps_always_increase),
		cmocka_unit_test(test_mkv_readable_before_close),
		cmocka_unit_test(test_mp4_and_avi),
		cmocka_unit_test(test_video_keeps_every_size),
		cmocka_unit_test(test_dir_keeps_every_size),
		cmocka_unit_test(test_mkv_write_fails),
		cmocka_unit_test(test_slow_disk_never_blocks),
		cmocka_unit_test(test_null_push_is_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
