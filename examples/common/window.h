/* The Wayland side every example shares: connecting, binding the globals, one xdg toplevel
 * with a linux-drm-syncobj-v1 surface, and opening a timeline backend (libsyncway-syncobj).
 * What an example actually demonstrates (how it renders and when it signals) stays in its
 * own file.
 */
#ifndef EXAMPLES_COMMON_WINDOW_H
#define EXAMPLES_COMMON_WINDOW_H

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>

#include <stdbool.h>
#include <stdint.h>
#include <wayland-client.h>

struct window {
	const char *program;
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_seat *seat;
	uint32_t seat_capabilities; /* WL_SEAT_CAPABILITY_* */
	struct xdg_wm_base *wm_base;
	struct wp_presentation *presentation;
	struct zwp_linux_dmabuf_v1 *dmabuf;
	struct wp_linux_drm_syncobj_manager_v1 *syncobj_manager;

	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	struct wp_linux_drm_syncobj_surface_v1 *surface_sync;
	bool configured, closed;

	struct syncobj_device *dev; /* timelines (the backend syncobj_open picked) */
	bool told_dmabuf_source;    /* said where its dma-bufs come from (buffer.c) */
};

/* Needs of window_open (flags). */
enum {
	WINDOW_NEEDS_DMABUF = 1 << 0, /* zwp_linux_dmabuf_v1 */
	WINDOW_NEEDS_SEAT = 1 << 1,   /* wl_seat (for a cursor) */
};

/* Connects, binds, opens the timeline backend, maps a toplevel titled `program` and waits
 * for its first configure. Anything missing exits EXIT_CANNOT_RUN with a message naming it;
 * the message goes to stderr. */
void window_open(struct window *window, const char *program, unsigned needs);
void window_close(struct window *window);

/* A timeline: the fd we keep (to submit, signal and wait on points) and the compositor's
 * handle for it. */
struct timeline {
	int fd;
	struct wp_linux_drm_syncobj_timeline_v1 *wl;
};

void timeline_create(struct window *window, struct timeline *timeline);
void timeline_destroy(struct window *window, struct timeline *timeline);

/* Sets the acquire and release points of the next commit. */
void window_set_points(struct window *window, const struct timeline *acquire, uint64_t acquire_point,
		       const struct timeline *release, uint64_t release_point);

/* Prints "PROGRAM: WHAT: strerror(-r) - syncobj_last_error()" and exits EXIT_FAILED. */
void die_syncobj(const struct window *window, const char *what, int r);

/* wl_display_dispatch, exiting EXIT_FAILED with the protocol error if the connection broke. */
void window_dispatch(struct window *window);

/* Nanoseconds of CLOCK_MONOTONIC (the clock syncway's wp_presentation reports in). */
uint64_t now_ns(void);

#endif
