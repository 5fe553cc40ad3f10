/* Shared pixel buffers the client writes on the CPU and the compositor reads: wl_shm over a
 * memfd, or linux-dmabuf over a buffer from heaps/ (a dma-buf heap, else udmabuf, else a
 * sealed memfd, which syncway's linux-dmabuf also takes). XRGB8888, rows of width * 4 bytes.
 */
#ifndef EXAMPLES_COMMON_BUFFER_H
#define EXAMPLES_COMMON_BUFFER_H

#include "options.h"
#include "window.h"

#include <stdbool.h>
#include <stdint.h>

struct shared_buffer {
	struct wl_buffer *wl_buffer;
	uint32_t *pixels; /* mapped read/write */
	uint32_t width, height, stride;
	size_t size;
	int fd;           /* kept for CPU-access brackets on dma-bufs; -1 for wl_shm */
	bool dmabuf_sync; /* a real dma-buf: writes go inside DMA_BUF_IOCTL_SYNC brackets */
	const char *backend; /* "memfd", "heap", "udmabuf" (static string) */
};

/* Creates a buffer of the given kind, or exits: EXIT_CANNOT_RUN if the kind cannot be had
 * here, EXIT_FAILED on a failure while creating it. The first dma-buf created says on stderr
 * where it came from and why the backends before it were not used. */
void shared_buffer_create(struct window *window, enum buffer_kind kind, uint32_t width,
			  uint32_t height, struct shared_buffer *buffer);
void shared_buffer_destroy(struct shared_buffer *buffer);

/* Bracket CPU writes (from any thread). On a memfd these do nothing. */
void shared_buffer_begin_write(const struct shared_buffer *buffer);
void shared_buffer_end_write(const struct shared_buffer *buffer);

#endif
