#include "window.h"

#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void die_syncobj(const struct window *window, const char *what, int r)
{
	const char *detail = syncobj_last_error();
	fprintf(stderr, "%s: %s: %s%s%s\n", window->program, what, strerror(-r),
		detail[0] ? " - " : "", detail);
	exit(EXIT_FAILED);
}

void window_dispatch(struct window *window)
{
	if (wl_display_dispatch(window->display) >= 0)
		return;
	const struct wl_interface *interface = NULL;
	uint32_t id = 0;
	int error = wl_display_get_error(window->display);
	uint32_t code = error == EPROTO ? wl_display_get_protocol_error(window->display, &interface, &id) : 0;
	if (interface)
		fprintf(stderr, "%s: protocol error %u on %s@%u\n", window->program, code, interface->name, id);
	else
		fprintf(stderr, "%s: lost the compositor: %s\n", window->program, strerror(error));
	exit(EXIT_FAILED);
}

static void seat_capabilities(void *data, struct wl_seat *seat, uint32_t caps)
{
	((struct window *)data)->seat_capabilities = caps;
}

static void seat_name(void *data, struct wl_seat *seat, const char *name) {}

static const struct wl_seat_listener seat_listener = {seat_capabilities, seat_name};

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
			    const char *interface, uint32_t version)
{
	struct window *w = data;
	if (strcmp(interface, wl_compositor_interface.name) == 0)
		w->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	else if (strcmp(interface, wl_shm_interface.name) == 0)
		w->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	else if (strcmp(interface, wl_seat_interface.name) == 0 && !w->seat) {
		w->seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
		wl_seat_add_listener(w->seat, &seat_listener, w);
	}
	else if (strcmp(interface, xdg_wm_base_interface.name) == 0)
		w->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	else if (strcmp(interface, wp_presentation_interface.name) == 0)
		w->presentation = wl_registry_bind(registry, name, &wp_presentation_interface, 1);
	else if (strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 && version >= 3)
		w->dmabuf = wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3);
	else if (strcmp(interface, wp_linux_drm_syncobj_manager_v1_interface.name) == 0)
		w->syncobj_manager = wl_registry_bind(registry, name, &wp_linux_drm_syncobj_manager_v1_interface, 1);
}

static void registry_global_remove(void *data, struct wl_registry *registry, uint32_t name) {}

static const struct wl_registry_listener registry_listener = {registry_global, registry_global_remove};

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {wm_base_ping};

static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	struct window *w = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	w->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {xdg_surface_configure};

/* The examples draw at the size they were asked for (--size), whatever the compositor
 * suggests: xdg-shell lets a window that is not maximized or fullscreen pick its own. */
static void toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t w, int32_t h,
			       struct wl_array *states) {}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	((struct window *)data)->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void missing(const struct window *w, const char *what)
{
	fprintf(stderr, "%s: the compositor does not offer %s\n", w->program, what);
	exit(EXIT_CANNOT_RUN);
}

void window_open(struct window *w, const char *program, unsigned needs)
{
	*w = (struct window){.program = program};
	w->display = wl_display_connect(NULL);
	if (!w->display) {
		const char *name = getenv("WAYLAND_DISPLAY");
		fprintf(stderr, "%s: cannot connect to a Wayland compositor (WAYLAND_DISPLAY=%s): %s\n",
			program, name ? name : "unset, so wayland-0", strerror(errno));
		exit(EXIT_CANNOT_RUN);
	}
	w->registry = wl_display_get_registry(w->display);
	wl_registry_add_listener(w->registry, &registry_listener, w);
	if (wl_display_roundtrip(w->display) < 0)
		window_dispatch(w);
	if (!w->compositor)
		missing(w, "wl_compositor");
	if (!w->shm)
		missing(w, "wl_shm");
	if (!w->wm_base)
		missing(w, "xdg_wm_base");
	if (!w->presentation)
		missing(w, "wp_presentation (needed for the report)");
	if (!w->syncobj_manager)
		missing(w, "wp_linux_drm_syncobj_manager_v1 (explicit sync; syncway offers it unless "
			   "started with --syncobj off or a mode whose device is missing)");
	if ((needs & WINDOW_NEEDS_DMABUF) && !w->dmabuf)
		missing(w, "zwp_linux_dmabuf_v1 version 3 (use --buffer shm)");
	if (needs & WINDOW_NEEDS_SEAT) {
		if (!w->seat)
			missing(w, "wl_seat");
		wl_display_roundtrip(w->display); /* the seat's capabilities */
		if (!(w->seat_capabilities & WL_SEAT_CAPABILITY_POINTER))
			missing(w, "a pointer on its wl_seat");
	}
	xdg_wm_base_add_listener(w->wm_base, &wm_base_listener, NULL);

	int r = syncobj_open(SYNCOBJ_BACKEND_AUTO, &w->dev);
	if (r) {
		fprintf(stderr, "%s: no timeline backend: %s%s%s\n", program, strerror(-r),
			syncobj_last_error()[0] ? " - " : "", syncobj_last_error());
		exit(EXIT_CANNOT_RUN);
	}

	w->surface = wl_compositor_create_surface(w->compositor);
	w->surface_sync = wp_linux_drm_syncobj_manager_v1_get_surface(w->syncobj_manager, w->surface);
	w->xdg_surface = xdg_wm_base_get_xdg_surface(w->wm_base, w->surface);
	xdg_surface_add_listener(w->xdg_surface, &xdg_surface_listener, w);
	w->toplevel = xdg_surface_get_toplevel(w->xdg_surface);
	xdg_toplevel_add_listener(w->toplevel, &toplevel_listener, w);
	xdg_toplevel_set_title(w->toplevel, program);
	wl_surface_commit(w->surface);
	while (!w->configured)
		window_dispatch(w);
}

void timeline_create(struct window *w, struct timeline *t)
{
	int r = syncobj_create(w->dev, 0, &t->fd);
	if (r)
		die_syncobj(w, "creating a timeline", r);
	t->wl = wp_linux_drm_syncobj_manager_v1_import_timeline(w->syncobj_manager, t->fd);
}

void timeline_destroy(struct window *w, struct timeline *t)
{
	if (t->wl)
		wp_linux_drm_syncobj_timeline_v1_destroy(t->wl);
	if (t->fd >= 0)
		syncobj_fd_close(w->dev, t->fd);
	t->wl = NULL;
	t->fd = -1;
}

void window_set_points(struct window *w, const struct timeline *acquire, uint64_t acquire_point,
		       const struct timeline *release, uint64_t release_point)
{
	wp_linux_drm_syncobj_surface_v1_set_acquire_point(w->surface_sync, acquire->wl,
							  (uint32_t)(acquire_point >> 32), (uint32_t)acquire_point);
	wp_linux_drm_syncobj_surface_v1_set_release_point(w->surface_sync, release->wl,
							  (uint32_t)(release_point >> 32), (uint32_t)release_point);
}

void window_close(struct window *w)
{
	wp_linux_drm_syncobj_surface_v1_destroy(w->surface_sync);
	xdg_toplevel_destroy(w->toplevel);
	xdg_surface_destroy(w->xdg_surface);
	wl_surface_destroy(w->surface);
	syncobj_close(w->dev);
	wp_linux_drm_syncobj_manager_v1_destroy(w->syncobj_manager);
	if (w->dmabuf)
		zwp_linux_dmabuf_v1_destroy(w->dmabuf);
	if (w->seat)
		wl_seat_destroy(w->seat);
	wp_presentation_destroy(w->presentation);
	xdg_wm_base_destroy(w->wm_base);
	wl_shm_destroy(w->shm);
	wl_compositor_destroy(w->compositor);
	wl_registry_destroy(w->registry);
	wl_display_disconnect(w->display);
}
