/* explicit-sync-shm: a Wayland client that uses linux-drm-syncobj-v1 with wl_shm buffers.
 *
 * The main thread commits each frame *before* it is drawn: it submits an acquire point on a
 * timeline (wait-before-signal), hands the buffer to a render thread, and commits the buffer
 * with that acquire point at once. The compositor shows the frame the moment the render thread
 * signals the point. A buffer is drawn into again only after its release point (set at its
 * previous commit) is signaled: the compositor no longer reads it.
 *
 *   explicit-sync-shm [--frames N]      (default: run until the window is closed)
 *
 * Build: C11, wayland-client, the generated xdg-shell and linux-drm-syncobj-v1 client code,
 * and libsyncway-syncobj (syncobj/include/syncobj/syncobj.h). Run it inside syncway, e.g.
 * `syncway -- explicit-sync-shm`, which hands it $SYNCWAY_SYNCOBJ_SOCKET; with a kernel
 * syncobj backend (/dev/syncobj or a DRM render node) any compositor with the protocol works.
 */
#include "linux-drm-syncobj-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#define WIDTH 480
#define HEIGHT 320
#define STRIDE (WIDTH * 4)
#define BUFFER_SIZE (STRIDE * HEIGHT)
#define BUFFER_COUNT 3

struct buffer {
	struct wl_buffer *wl_buffer;
	uint32_t *pixels;
	uint64_t release_point; /* of its last commit; 0: never committed (main thread only) */
};

/* One frame for the render thread: once `wait_release` is signaled (0: nothing to wait for),
 * draw `frame` into `pixels`, then signal the acquire point through `signaler`. */
struct job {
	uint32_t *pixels;
	uint64_t wait_release;
	uint64_t frame;
	int signaler;
};

struct app {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wp_linux_drm_syncobj_manager_v1 *syncobj_manager;
	struct wl_surface *surface;
	struct wp_linux_drm_syncobj_surface_v1 *surface_sync;
	struct wl_callback *frame_callback;
	bool configured, closed, frame_due;

	struct syncobj_device *dev;
	int acquire_fd, release_fd; /* our timelines */
	struct wp_linux_drm_syncobj_timeline_v1 *acquire, *release;
	struct buffer buffers[BUFFER_COUNT];
	uint64_t frame;

	/* main thread -> render thread */
	pthread_t render_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job queue[BUFFER_COUNT];
	int queued;
	bool stop;
};

static void die(const char *what, int r)
{
	fprintf(stderr, "explicit-sync-shm: %s: %s%s%s\n", what, strerror(-r),
		syncobj_last_error()[0] ? " - " : "", syncobj_last_error());
	exit(1);
}

/* ---- the render thread ------------------------------------------------------------------ */

static void draw(uint32_t *pixels, uint64_t frame)
{
	/* A bar sweeping across a gradient: easy to see every frame arrive. */
	int bar = (int)(frame * 6 % WIDTH);
	for (int y = 0; y < HEIGHT; y++) {
		for (int x = 0; x < WIDTH; x++) {
			bool in_bar = x >= bar && x < bar + 24;
			uint32_t r = in_bar ? 0xff : (uint32_t)(x * 255 / WIDTH);
			uint32_t g = in_bar ? 0xff : (uint32_t)(y * 255 / HEIGHT);
			uint32_t b = in_bar ? 0xff : 0x60;
			pixels[y * WIDTH + x] = 0xff000000u | r << 16 | g << 8 | b;
		}
	}
}

static void *render_main(void *data)
{
	struct app *app = data;
	for (;;) {
		pthread_mutex_lock(&app->lock);
		while (app->queued == 0 && !app->stop)
			pthread_cond_wait(&app->cond, &app->lock);
		if (app->queued == 0) {
			pthread_mutex_unlock(&app->lock);
			return NULL;
		}
		struct job job = app->queue[0];
		memmove(app->queue, app->queue + 1, sizeof(app->queue[0]) * (size_t)--app->queued);
		pthread_cond_broadcast(&app->cond); /* room in the queue for the main thread */
		pthread_mutex_unlock(&app->lock);

		/* The compositor may still read this buffer for its previous commit: wait for that
		 * commit's release point before writing. */
		if (job.wait_release) {
			int r = syncobj_wait(app->dev, &app->release_fd, &job.wait_release, 1,
					     INT64_MAX, SYNCOBJ_WAIT_FOR_SUBMIT, NULL);
			if (r)
				die("waiting for a release point", r);
		}
		draw(job.pixels, job.frame);
		/* One syscall: the compositor applies the commit it has been holding. */
		int r = syncobj_signaler_signal(app->dev, job.signaler);
		if (r)
			die("signaling the acquire point", r);
		syncobj_fd_close(app->dev, job.signaler);
	}
}

/* ---- the main thread: one commit per frame callback -------------------------------------- */

static const struct wl_callback_listener frame_listener;

static void commit_next_frame(struct app *app)
{
	uint64_t point = ++app->frame;
	struct buffer *buffer = &app->buffers[point % BUFFER_COUNT];

	/* Wait-before-signal: the point exists now, the render thread signals it later. */
	int signaler = -1;
	int r = syncobj_submit(app->dev, app->acquire_fd, point, &signaler);
	if (r)
		die("submitting an acquire point", r);

	struct job job = {buffer->pixels, buffer->release_point, point, signaler};
	pthread_mutex_lock(&app->lock);
	/* A compositor that applies commits before their acquire points signal sends frame
	 * callbacks faster than we draw: wait for room rather than overrun the queue. */
	while (app->queued == BUFFER_COUNT)
		pthread_cond_wait(&app->cond, &app->lock);
	app->queue[app->queued++] = job;
	pthread_cond_signal(&app->cond);
	pthread_mutex_unlock(&app->lock);
	buffer->release_point = point;

	/* Commit right away, without waiting for the drawing. Acquire and release points live on
	 * separate timelines; point n on both belongs to frame n. */
	wl_surface_attach(app->surface, buffer->wl_buffer, 0, 0);
	wl_surface_damage_buffer(app->surface, 0, 0, WIDTH, HEIGHT);
	wp_linux_drm_syncobj_surface_v1_set_acquire_point(app->surface_sync, app->acquire,
							  (uint32_t)(point >> 32), (uint32_t)point);
	wp_linux_drm_syncobj_surface_v1_set_release_point(app->surface_sync, app->release,
							  (uint32_t)(point >> 32), (uint32_t)point);
	app->frame_callback = wl_surface_frame(app->surface);
	wl_callback_add_listener(app->frame_callback, &frame_listener, app);
	wl_surface_commit(app->surface);
	app->frame_due = false;
}

static void frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct app *app = data;
	wl_callback_destroy(callback);
	app->frame_callback = NULL;
	app->frame_due = true;
}

static const struct wl_callback_listener frame_listener = {.done = frame_done};

/* ---- setup ------------------------------------------------------------------------------- */

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
			    const char *interface, uint32_t version)
{
	struct app *app = data;
	if (strcmp(interface, wl_compositor_interface.name) == 0)
		app->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	else if (strcmp(interface, wl_shm_interface.name) == 0)
		app->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	else if (strcmp(interface, xdg_wm_base_interface.name) == 0)
		app->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
	else if (strcmp(interface, wp_linux_drm_syncobj_manager_v1_interface.name) == 0)
		app->syncobj_manager = wl_registry_bind(registry, name,
							&wp_linux_drm_syncobj_manager_v1_interface, 1);
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
	struct app *app = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	app->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {xdg_surface_configure};

static void toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t w, int32_t h,
			       struct wl_array *states) {}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	((struct app *)data)->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void create_buffers(struct app *app)
{
	int fd = memfd_create("explicit-sync-shm", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)BUFFER_SIZE * BUFFER_COUNT) != 0)
		die("memfd", -errno);
	uint8_t *data = mmap(NULL, (size_t)BUFFER_SIZE * BUFFER_COUNT, PROT_READ | PROT_WRITE,
			     MAP_SHARED, fd, 0);
	if (data == MAP_FAILED)
		die("mmap", -errno);
	struct wl_shm_pool *pool = wl_shm_create_pool(app->shm, fd, BUFFER_SIZE * BUFFER_COUNT);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		app->buffers[i].pixels = (uint32_t *)(data + (size_t)i * BUFFER_SIZE);
		/* No wl_buffer.release listener: with a syncobj surface, release points say it. */
		app->buffers[i].wl_buffer = wl_shm_pool_create_buffer(
			pool, i * BUFFER_SIZE, WIDTH, HEIGHT, STRIDE, WL_SHM_FORMAT_XRGB8888);
	}
	wl_shm_pool_destroy(pool);
	close(fd);
}

int main(int argc, char **argv)
{
	long frames = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
			frames = strtol(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: %s [--frames N]\n", argv[0]);
			return 2;
		}
	}

	struct app app = {.acquire_fd = -1, .release_fd = -1};
	app.display = wl_display_connect(NULL);
	if (!app.display) {
		fprintf(stderr, "explicit-sync-shm: cannot connect to a Wayland compositor\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(app.display);
	wl_registry_add_listener(registry, &registry_listener, &app);
	wl_display_roundtrip(app.display);
	if (!app.compositor || !app.shm || !app.wm_base) {
		fprintf(stderr, "explicit-sync-shm: the compositor lacks wl_compositor, wl_shm or xdg_wm_base\n");
		return 1;
	}
	if (!app.syncobj_manager) {
		fprintf(stderr, "explicit-sync-shm: the compositor does not offer linux-drm-syncobj-v1\n");
		return 1;
	}
	xdg_wm_base_add_listener(app.wm_base, &wm_base_listener, NULL);

	int r = syncobj_open(SYNCOBJ_BACKEND_AUTO, &app.dev);
	if (r)
		die("opening a syncobj backend", r);
	printf("explicit-sync-shm: timelines from the %s backend\n", syncobj_backend_name(syncobj_backend_of(app.dev)));
	fflush(stdout);
	if ((r = syncobj_create(app.dev, 0, &app.acquire_fd)) || (r = syncobj_create(app.dev, 0, &app.release_fd)))
		die("creating a timeline", r);
	app.acquire = wp_linux_drm_syncobj_manager_v1_import_timeline(app.syncobj_manager, app.acquire_fd);
	app.release = wp_linux_drm_syncobj_manager_v1_import_timeline(app.syncobj_manager, app.release_fd);

	app.surface = wl_compositor_create_surface(app.compositor);
	app.surface_sync = wp_linux_drm_syncobj_manager_v1_get_surface(app.syncobj_manager, app.surface);
	struct xdg_surface *xdg_surface = xdg_wm_base_get_xdg_surface(app.wm_base, app.surface);
	xdg_surface_add_listener(xdg_surface, &xdg_surface_listener, &app);
	struct xdg_toplevel *toplevel = xdg_surface_get_toplevel(xdg_surface);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, &app);
	xdg_toplevel_set_title(toplevel, "explicit-sync-shm");
	wl_surface_commit(app.surface);
	while (!app.configured && wl_display_dispatch(app.display) >= 0)
		;
	create_buffers(&app);

	pthread_mutex_init(&app.lock, NULL);
	pthread_cond_init(&app.cond, NULL);
	if (pthread_create(&app.render_thread, NULL, render_main, &app) != 0)
		die("starting the render thread", -EAGAIN);

	app.frame_due = true;
	int status = 0;
	while (!app.closed && (frames < 0 || (long)app.frame < frames)) {
		if (app.frame_due)
			commit_next_frame(&app);
		if (wl_display_dispatch(app.display) < 0) {
			fprintf(stderr, "explicit-sync-shm: lost the compositor (error %d)\n",
				wl_display_get_error(app.display));
			status = 1;
			break;
		}
	}

	pthread_mutex_lock(&app.lock);
	app.stop = true;
	pthread_cond_signal(&app.cond);
	pthread_mutex_unlock(&app.lock);
	pthread_join(app.render_thread, NULL);
	if (status == 0)
		printf("explicit-sync-shm: %llu frames committed with explicit sync\n",
		       (unsigned long long)app.frame);

	if (app.frame_callback)
		wl_callback_destroy(app.frame_callback);
	wp_linux_drm_syncobj_surface_v1_destroy(app.surface_sync);
	xdg_toplevel_destroy(toplevel);
	xdg_surface_destroy(xdg_surface);
	wl_surface_destroy(app.surface);
	for (int i = 0; i < BUFFER_COUNT; i++)
		wl_buffer_destroy(app.buffers[i].wl_buffer);
	munmap(app.buffers[0].pixels, (size_t)BUFFER_SIZE * BUFFER_COUNT);
	wp_linux_drm_syncobj_timeline_v1_destroy(app.acquire);
	wp_linux_drm_syncobj_timeline_v1_destroy(app.release);
	close(app.acquire_fd);
	close(app.release_fd);
	syncobj_close(app.dev);
	wp_linux_drm_syncobj_manager_v1_destroy(app.syncobj_manager);
	xdg_wm_base_destroy(app.wm_base);
	wl_shm_destroy(app.shm);
	wl_compositor_destroy(app.compositor);
	wl_registry_destroy(registry);
	wl_display_disconnect(app.display);
	return status;
}
