/* Every example writes its frame number (modulo 256) into the blue channel of every pixel it
 * presents, and draws its picture with red and green only. A whole frame therefore has one
 * blue value everywhere; a frame the compositor showed while it was still being drawn has two
 * (or the previous frame's, if drawing had not started). The examples suite reads every
 * screenshot it takes this way (tests/examples/frame_check.c).
 */
#ifndef EXAMPLES_COMMON_FRAME_CODE_H
#define EXAMPLES_COMMON_FRAME_CODE_H

#include <stdint.h>

static inline uint32_t frame_code(uint64_t frame)
{
	return (uint32_t)(frame & 0xff);
}

/* An opaque XRGB8888 pixel: the picture in red and green, the frame code in blue. */
static inline uint32_t frame_pixel(uint32_t red, uint32_t green, uint64_t frame)
{
	return 0xff000000u | (red & 0xff) << 16 | (green & 0xff) << 8 | frame_code(frame);
}

#endif
