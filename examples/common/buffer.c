#include "buffer.h"

#include "heap_alloc.h"

#include <errno.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define DRM_FORMAT_XRGB8888 0x34325258u /* 'XR24', the linux-dmabuf twin of WL_SHM_FORMAT_XRGB8888 */
#define DRM_FORMAT_MOD_LINEAR UINT64_C(0)

static void *map_or_die(const struct window *window, int fd, size_t size)
{
	void *data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		fprintf(stderr, "%s: mapping a %zu-byte buffer: %s\n", window->program, size, strerror(errno));
		exit(EXIT_FAILED);
	}
	return data;
}

static void create_shm(struct window *window, struct shared_buffer *b)
{
	int fd = memfd_create(window->program, MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)b->size) != 0) {
		fprintf(stderr, "%s: a %zu-byte memfd: %s\n", window->program, b->size, strerror(errno));
		exit(EXIT_FAILED);
	}
	b->pixels = map_or_die(window, fd, b->size);
	struct wl_shm_pool *pool = wl_shm_create_pool(window->shm, fd, (int32_t)b->size);
	b->wl_buffer = wl_shm_pool_create_buffer(pool, 0, (int32_t)b->width, (int32_t)b->height,
						 (int32_t)b->stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd); /* the pool and the mapping keep the memory */
	b->backend = "memfd";
}

static void create_dmabuf(struct window *window, struct shared_buffer *b)
{
	const char *backend = NULL;
	char fallback[512] = "", error[256] = "";
	b->fd = heap_alloc(b->size, window->program, &backend, fallback, sizeof(fallback), error, sizeof(error));
	if (b->fd < 0) {
		fprintf(stderr, "%s: no buffer from heaps/: %s\n", window->program, error);
		exit(EXIT_CANNOT_RUN);
	}
	if (!window->told_dmabuf_source) {
		fprintf(stderr, "%s: dma-bufs from %s%s%s\n", window->program, backend,
			fallback[0] ? " - " : "", fallback);
		window->told_dmabuf_source = true;
	}
	b->backend = backend;
	b->dmabuf_sync = strcmp(backend, "memfd") != 0;
	b->pixels = map_or_die(window, b->fd, b->size);
	struct zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(window->dmabuf);
	zwp_linux_buffer_params_v1_add(params, b->fd, 0, 0, b->stride, DRM_FORMAT_MOD_LINEAR >> 32,
				       DRM_FORMAT_MOD_LINEAR & 0xffffffffu);
	/* A buffer the compositor cannot take is a protocol error: window_dispatch reports it. */
	b->wl_buffer = zwp_linux_buffer_params_v1_create_immed(params, (int32_t)b->width,
							       (int32_t)b->height, DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
}

void shared_buffer_create(struct window *window, enum buffer_kind kind, uint32_t width,
			  uint32_t height, struct shared_buffer *b)
{
	*b = (struct shared_buffer){.width = width, .height = height, .stride = width * 4, .fd = -1};
	b->size = (size_t)b->stride * height;
	if (kind == BUFFER_SHM)
		create_shm(window, b);
	else
		create_dmabuf(window, b);
}

void shared_buffer_destroy(struct shared_buffer *b)
{
	if (b->wl_buffer)
		wl_buffer_destroy(b->wl_buffer);
	if (b->pixels)
		munmap(b->pixels, b->size);
	if (b->fd >= 0)
		close(b->fd);
	*b = (struct shared_buffer){.fd = -1};
}

static void cpu_sync(const struct shared_buffer *b, uint64_t flags)
{
	if (!b->dmabuf_sync)
		return;
	struct dma_buf_sync sync = {.flags = flags | DMA_BUF_SYNC_WRITE};
	/* Cache maintenance for the device side; a failure here is not worth losing the frame
	 * over (a memfd-backed udmabuf is coherent), so it only gets a message. */
	while (ioctl(b->fd, DMA_BUF_IOCTL_SYNC, &sync) != 0) {
		if (errno != EINTR && errno != EAGAIN) {
			fprintf(stderr, "DMA_BUF_IOCTL_SYNC: %s\n", strerror(errno));
			return;
		}
	}
}

void shared_buffer_begin_write(const struct shared_buffer *b)
{
	cpu_sync(b, DMA_BUF_SYNC_START);
}

void shared_buffer_end_write(const struct shared_buffer *b)
{
	cpu_sync(b, DMA_BUF_SYNC_END);
}
