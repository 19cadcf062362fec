/*
 * yuyv: a camera's packed YUYV 4:2:2 (limited range, as webcams deliver it) to the planar 4:2:0
 * full-range YUV that JPEG means, in one pass and with no RGB round trip.
 *
 * JFIF defines full-range samples; webcams deliver luma in 16..235 and chroma in 16..240. Passing
 * those through unchanged (as GStreamer's and uStreamer's pipelines do) makes blacks grey and
 * colours pale; expanding them while splitting the planes costs a multiply and a shift per sample
 * in 16-bit lanes that the compiler vectorises (no table: a lookup per sample cannot be).
 * Chroma rows are averaged in pairs to go from 4:2:2 to 4:2:0.
 *
 * Pure function over caller-owned buffers; thread-safe.
 */
#ifndef FC_YUYV_H
#define FC_YUYV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Converts a width x height YUYV picture (src_stride bytes per row; width and height even) into
 * planes y (width x height) and u, v (width/2 x height/2), each with its own stride.
 */
void fc_yuyv_to_i420(const uint8_t *src, size_t src_stride, int width, int height, uint8_t *y,
		     int y_stride, uint8_t *u, uint8_t *v, int uv_stride);

#endif
