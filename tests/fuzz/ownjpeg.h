/*
 * ownjpeg: the frame the JPEG decoders' fuzz targets (fuzz_decoder.c, fuzz_partdec.c) decode
 * before each input, as the frame before it in a stream: 16x16 4:2:0, progressive, quality 30,
 * so that its tables are unlike most inputs'. Made once at start with TurboJPEG; aborts if it
 * cannot be. Header-only; the caller owns *jpeg (tjFree).
 */
#ifndef FC_OWNJPEG_H
#define FC_OWNJPEG_H

#include <stdint.h>
#include <stdlib.h>
#include <turbojpeg.h>

static inline void fc_fuzz_own_jpeg(uint8_t **jpeg, unsigned long *size)
{
	static uint8_t rgb[16 * 16 * 3];
	tjhandle tj = tjInitCompress();

	if (!tj)
		abort();
	for (size_t i = 0; i < sizeof(rgb); i++)
		rgb[i] = (uint8_t)(i * 7);
	if (tjCompress2(tj, rgb, 16, 0, 16, TJPF_RGB, jpeg, size, TJSAMP_420, 30,
			TJFLAG_PROGRESSIVE) < 0)
		abort();
	tjDestroy(tj);
}

#endif
