/*
 * record_av: the recorder's container writer. The JPEGs are stream-copied, byte for byte, as the
 * packets of one MJPEG video stream (libavformat), each at its receive time relative to the
 * first frame, so the video plays at the pace the frames came in. Nothing is written before the
 * first frame.
 *
 * Frames come in several sizes: the sender fits each one to the link (a rendition: the picture's
 * sides halved up to three times), and a sender may come back at another size. Every one is
 * kept as it came: each JPEG says its own size, and FFmpeg's MJPEG decoder (ffmpeg, ffplay, mpv)
 * and GStreamer's jpegdec follow a change from one packet to the next. The stream's header gives
 * the first frame's own size, not the picture's: FFmpeg's decoder takes a first JPEG less than
 * 3/4 as tall as the header says for one field of an interlaced picture and merges two frames
 * into one (found by experiment, docs/RECORDING.md), and it takes the first frame's size as the
 * stream's whatever the header says. The picture's size goes in the file's comment instead.
 *
 * What a kill leaves: after each frame the muxer is flushed (av_write_frame with NULL) and the
 * bytes go to the kernel, so the file on disk always ends with a complete frame:
 * - Matroska (.mkv): that flush closes a cluster, one cluster per frame; a file never finished
 *   has a segment of unknown size, which every demuxer reads up to its last complete cluster.
 * - MP4 (.mp4): written fragmented (an empty moov first, then one moof+mdat fragment per frame),
 *   because a plain MP4's index is written only at the end; a killed one would be unreadable.
 *   A fragment is complete only once the next frame arrives (its duration), so a kill loses the
 *   last frame.
 * - AVI (.avi): its index is written only at the end; a killed AVI holds the frames but players
 *   may have to scan for them. AVI has no per-frame timestamps: frames are placed on a 10 ms
 *   grid and the muxer fills the gaps with empty (repeat) frames.
 *
 * Used by the recorder's thread only (record_sink.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "record_sink.h"

struct av_sink {
	struct fc_record_sink base;
	AVFormatContext *ctx;
	AVPacket *pkt;
	const char *format; /* libavformat's name for it: "matroska", "mp4", "avi" */
	bool created;	    /* we made the file (removed again when no frame was written) */
	bool started;	    /* the header is written */
	bool io_failed;	    /* a write failed: leave the file as it is */
	int64_t last_pts;   /* in the stream's time base: each frame's must be larger */
	char path[4096];
};

static void av_message(int averr, char *buf, size_t len)
{
	if (av_strerror(averr, buf, len) < 0)
		snprintf(buf, len, "error %d", averr);
}

/* The stream's time base as each container wants it. */
static AVRational time_base(const char *format)
{
	if (strcmp(format, "matroska") == 0)
		return (AVRational){ 1, 1000 }; /* Matroska's own default: milliseconds */
	if (strcmp(format, "avi") == 0)
		return (AVRational){ 1, 100 }; /* a frame-rate grid: see the top of the file */
	return (AVRational){ 1, 90000 };       /* MP4: the usual video clock */
}

/* Creates the stream from the first frame and writes the header. */
static int start(struct av_sink *a, const struct fc_frame *f, const struct fc_record_meta *m,
		 char *err, size_t errlen)
{
	AVDictionary *opts = NULL;
	AVStream *st = avformat_new_stream(a->ctx, NULL);
	char when[64];
	char comment[192];
	char msg[128];
	time_t secs = (time_t)(m->unix_ns / 1000000000ull);
	struct tm tm;
	int rc;

	if (!st) {
		snprintf(err, errlen, "%s: out of memory", a->path);
		return -1;
	}
	st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
	st->codecpar->codec_id = AV_CODEC_ID_MJPEG;
	/* The first frame's own size (see the top of the file). */
	st->codecpar->width = f->width;
	st->codecpar->height = f->height;
	st->time_base = time_base(a->format);
	/* When the recording began, in the container's own field (Matroska's DateUTC, MP4's
	 * creation time): players and ffprobe show it. */
	if (gmtime_r(&secs, &tm)) {
		snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (unsigned)(m->unix_ns % 1000000000ull / 1000));
		av_dict_set(&a->ctx->metadata, "creation_time", when, 0);
	}
	/* What ffprobe and players show as the comment: the picture's size, which the header
	 * cannot carry, for a user who wants the video at one size (docs/RECORDING.md). */
	snprintf(comment, sizeof(comment),
		 "recorded by freshcam-view " FC_VERSION
		 "; picture %ux%u, frames of it or of smaller "
		 "renditions, each JPEG at its own size",
		 (unsigned)(f->src_width ? f->src_width : f->width),
		 (unsigned)(f->src_width ? f->src_height : f->height));
	av_dict_set(&a->ctx->metadata, "comment", comment, 0);
	if (strcmp(a->format, "mp4") == 0)
		av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
	rc = avformat_write_header(a->ctx, &opts);
	av_dict_free(&opts);
	if (rc < 0) {
		av_message(rc, msg, sizeof(msg));
		snprintf(err, errlen, "%s: cannot write the header: %s", a->path, msg);
		return -1;
	}
	a->started = true;
	return 0;
}

static int av_write(struct fc_record_sink *s, const struct fc_frame *f,
		    const struct fc_record_meta *m, char *err, size_t errlen)
{
	struct av_sink *a = (struct av_sink *)s;
	AVStream *st;
	int64_t pts;
	char msg[128];
	int rc;

	if (!a->started && start(a, f, m, err, errlen) < 0)
		goto fail;
	/* The muxer may have changed the time base in the header; rescale into whatever it is. */
	st = a->ctx->streams[0];
	pts = av_rescale_q((int64_t)m->rel_ns, (AVRational){ 1, 1000000000 }, st->time_base);
	if (m->number > 1 && pts <= a->last_pts)
		pts = a->last_pts + 1; /* two frames within one tick: timestamps must increase */
	a->last_pts = pts;
	a->pkt->data = f->data; /* not copied: av_write_frame only reads it */
	a->pkt->size = (int)f->size;
	a->pkt->stream_index = 0;
	a->pkt->pts = a->pkt->dts = pts;
	a->pkt->flags = AV_PKT_FLAG_KEY; /* every JPEG stands alone */
	rc = av_write_frame(a->ctx, a->pkt);
	av_packet_unref(a->pkt);
	/* Close the cluster (Matroska) and hand the bytes to the kernel, so that the file on disk
	 * ends with this frame whatever happens to the process next. Not MP4: a sample's duration
	 * is known only from the next one's time, so a fragment forced out now would carry a wrong
	 * one; each frame's fragment goes out when the next frame starts one. */
	if (rc >= 0 && strcmp(a->format, "mp4") != 0)
		rc = av_write_frame(a->ctx, NULL);
	if (rc >= 0) {
		avio_flush(a->ctx->pb);
		rc = a->ctx->pb->error;
	}
	if (rc < 0) {
		av_message(rc, msg, sizeof(msg));
		snprintf(err, errlen, "%s: %s", a->path, msg);
		goto fail;
	}
	return 0;
fail:
	a->io_failed = true;
	return -1;
}

static void av_free_sink(struct av_sink *a)
{
	if (a->ctx) {
		avio_closep(&a->ctx->pb);
		avformat_free_context(a->ctx);
	}
	av_packet_free(&a->pkt);
	free(a);
}

static int av_close(struct fc_record_sink *s, char *err, size_t errlen)
{
	struct av_sink *a = (struct av_sink *)s;
	char msg[128];
	int status = 0;
	int rc;

	if (a->started && !a->io_failed) {
		rc = av_write_trailer(a->ctx);
		if (rc >= 0)
			rc = avio_closep(&a->ctx->pb);
		if (rc < 0) {
			av_message(rc, msg, sizeof(msg));
			snprintf(err, errlen, "%s: cannot finish the file: %s", a->path, msg);
			status = -1;
		}
	} else if (!a->started && a->created) {
		/* No frame came: an empty file would only look like a broken video. */
		unlink(a->path);
	}
	av_free_sink(a);
	return status;
}

static const struct fc_record_sink_ops av_ops = {
	.write = av_write,
	.close = av_close,
};

struct fc_record_sink *fc_record_av_open(const char *path, const char *format, char *err,
					 size_t errlen)
{
	struct av_sink *a = calloc(1, sizeof(*a));
	char url[4096 + 8];
	char msg[128];
	struct stat sb;
	int rc;
	int fd;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->base.ops = &av_ops;
	a->format = format;
	if (strlen(path) >= sizeof(a->path)) {
		snprintf(err, errlen, "cannot record to %.100s...: the path is too long", path);
		goto fail;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	/* Library code does not print: failures come back through err, so the muxers' own
	 * console messages would only repeat them, mid-line. (The viewer's only libav user.) */
	av_log_set_level(AV_LOG_QUIET);
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		/* Never overwrite a recording: a new name is one word away, a lost file is not. */
		snprintf(err, errlen,
			 "cannot record to %s: it exists; choose a new name or remove it", path);
		goto fail;
	}
	if (stat(path, &sb) < 0) {
		/* Created here (exclusively), so that a bad directory or a missing permission is
		 * reported now; libavformat reopens it below. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			goto fail;
		}
		close(fd);
		a->created = true;
	}
	a->pkt = av_packet_alloc();
	rc = avformat_alloc_output_context2(&a->ctx, NULL, format, path);
	if (!a->pkt || rc < 0) {
		snprintf(err, errlen, "cannot record to %s: no %s muxer in this libavformat", path,
			 format);
		goto fail;
	}
	/* "file:" so that a colon in the name is never read as a protocol ("a:b.mkv"). An
	 * existing FIFO blocks here until a reader opens it, as any writer of one would. */
	snprintf(url, sizeof(url), "file:%s", path);
	rc = avio_open(&a->ctx->pb, url, AVIO_FLAG_WRITE);
	if (rc < 0) {
		av_message(rc, msg, sizeof(msg));
		snprintf(err, errlen, "cannot write %s: %s", path, msg);
		goto fail;
	}
	snprintf(a->base.describe, sizeof(a->base.describe), "%.200s (%s, the JPEGs stream-copied)",
		 path,
		 strcmp(format, "matroska") == 0 ? "Matroska"
		 : strcmp(format, "mp4") == 0	 ? "fragmented MP4"
						 : "AVI");
	return &a->base;
fail:
	if (a->created)
		unlink(path);
	av_free_sink(a);
	return NULL;
}
