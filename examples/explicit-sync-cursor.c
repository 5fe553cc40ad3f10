/* explicit-sync-cursor: an animated cursor whose every image is committed with an acquire
 * point, so the cursor (a software cursor, or the hardware cursor plane on KMS) only ever
 * shows finished images.
 *
 * The window itself shows one still image. Once the pointer enters it, the client makes a
 * second surface its cursor (wl_pointer.set_cursor) and animates that surface the way
 * explicit-sync-shm animates a window: per frame the main thread submits an acquire point,
 * hands the buffer to a render thread and commits at once; the render thread waits for the
 * buffer's release point, draws, and signals. The cursor surface has its own
 * linux-drm-syncobj-v1 surface object and its own timelines.
 */
#include "common/buffer.h"
#include "common/frame_code.h"
#include "common/options.h"
#include "common/report.h"
#include "common/window.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BUFFER_COUNT 3

static const char usage[] =
	"usage: explicit-sync-cursor [OPTIONS]\n"
	"A window whose cursor is a spinning dial, every cursor image committed before a render\n"
	"thread draws it. The animation starts when the pointer enters the window.\n"
	OPTIONS_USAGE_COMMON
	"  --cursor-size N  cursor edge in pixels, 16 to 256 (default 32; KMS cursor planes take\n"
	"                   64 or more)\n"
	"  --size WxH       window size in pixels (default: 320x240)\n"
	OPTIONS_USAGE_EXIT;

/* One cursor image for the render thread. */
struct job {
	struct shared_buffer *buffer;
	int release_fd;
	uint64_t wait_release; /* 0: nothing to wait for */
	uint64_t frame;
	int signaler;
};

struct app {
	struct options options;
	int cursor_size;
	struct window window;
	struct report *report;

	struct wl_pointer *pointer;
	struct wl_surface *cursor;
	struct wp_linux_drm_syncobj_surface_v1 *cursor_sync;
	bool animating; /* the pointer is in the window and the cursor is ours */

	/* The window's one still image: its acquire point is signaled before it is committed. */
	struct shared_buffer background;
	struct timeline background_acquire, background_release;

	struct timeline acquire;               /* point n: cursor frame n is drawn */
	struct timeline release[BUFFER_COUNT]; /* point k: the k-th commit of that buffer is released */
	uint64_t uses[BUFFER_COUNT];
	struct shared_buffer buffers[BUFFER_COUNT];
	struct wl_callback *frame_callback;
	bool frame_due;
	uint64_t frame;

	pthread_t render_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job queue[BUFFER_COUNT];
	int queued;
	bool stop;
};

/* ---- drawing ------------------------------------------------------------------------------ */

/* A dial: a ring with a hand that turns a little every frame, on an opaque square (opaque so
 * that every pixel carries the frame code). */
static void draw_cursor(struct shared_buffer *b, uint64_t frame)
{
	double angle = (double)frame * 0.15, size = b->width;
	for (uint32_t y = 0; y < b->height; y++) {
		for (uint32_t x = 0; x < b->width; x++) {
			double dx = x + 0.5 - size / 2, dy = y + 0.5 - size / 2;
			double r = sqrt(dx * dx + dy * dy) / (size / 2);
			/* Distance from the hand: the ray from the centre at `angle`. */
			double along = dx * cos(angle) + dy * sin(angle);
			double across = fabs(-dx * sin(angle) + dy * cos(angle));
			bool hand = along > 0 && r < 0.8 && across < size / 16;
			bool ring = r > 0.8 && r < 0.95;
			uint32_t shade = (uint32_t)(r * 0x50); /* the face darkens towards the ring */
			b->pixels[y * (b->stride / 4) + x] =
				frame_pixel(hand ? 0xff : ring ? 0x20 : 0x60 - shade / 2, ring ? 0xe0 : hand ? 0xc0 : 0x50 - shade / 2, frame);
		}
	}
}

static void draw_background(struct shared_buffer *b)
{
	for (uint32_t y = 0; y < b->height; y++)
		for (uint32_t x = 0; x < b->width; x++)
			b->pixels[y * (b->stride / 4) + x] = frame_pixel(0x30, 0x30 + (y * 0x60 / b->height), 0);
}

static void *render_main(void *data)
{
	struct app *app = data;
	struct window *w = &app->window;
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

		if (job.wait_release) {
			int r = syncobj_wait(w->dev, &job.release_fd, &job.wait_release, 1, INT64_MAX,
					     SYNCOBJ_WAIT_FOR_SUBMIT, NULL);
			if (r)
				die_syncobj(w, "waiting for a release point", r);
		}
		shared_buffer_begin_write(job.buffer);
		draw_cursor(job.buffer, job.frame);
		shared_buffer_end_write(job.buffer);
		int r = syncobj_signaler_signal(w->dev, job.signaler);
		if (r)
			die_syncobj(w, "signaling the acquire point", r);
		syncobj_fd_close(w->dev, job.signaler);
	}
}

/* ---- the cursor surface: one commit per frame callback ------------------------------------ */

static void frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct app *app = data;
	/* The frame callback only paces the animation; what was shown, and when, comes from the
	 * frame's wp_presentation feedback (report_frame). */
	wl_callback_destroy(callback);
	app->frame_callback = NULL;
	app->frame_due = true;
}

static const struct wl_callback_listener frame_listener = {.done = frame_done};

static void commit_next_cursor_frame(struct app *app)
{
	struct window *w = &app->window;
	uint64_t point = ++app->frame;
	int index = (int)(point % BUFFER_COUNT);
	struct shared_buffer *buffer = &app->buffers[index];

	int signaler = -1;
	int r = syncobj_submit(w->dev, app->acquire.fd, point, &signaler);
	if (r)
		die_syncobj(w, "submitting an acquire point", r);
	pthread_mutex_lock(&app->lock);
	/* A compositor that shows frames before they are drawn (it ignores acquire points) lets
	 * this thread run ahead of the renderer: wait for room rather than overrun the queue. */
	while (app->queued == BUFFER_COUNT)
		pthread_cond_wait(&app->cond, &app->lock);
	app->queue[app->queued++] = (struct job){buffer, app->release[index].fd, app->uses[index], point, signaler};
	pthread_cond_broadcast(&app->cond);
	pthread_mutex_unlock(&app->lock);
	uint64_t release_point = ++app->uses[index];

	wl_surface_attach(app->cursor, buffer->wl_buffer, 0, 0);
	wl_surface_damage_buffer(app->cursor, 0, 0, (int32_t)buffer->width, (int32_t)buffer->height);
	wp_linux_drm_syncobj_surface_v1_set_acquire_point(app->cursor_sync, app->acquire.wl,
							  (uint32_t)(point >> 32), (uint32_t)point);
	wp_linux_drm_syncobj_surface_v1_set_release_point(app->cursor_sync, app->release[index].wl,
							  (uint32_t)(release_point >> 32), (uint32_t)release_point);
	app->frame_callback = wl_surface_frame(app->cursor);
	wl_callback_add_listener(app->frame_callback, &frame_listener, app);
	/* Feedback for a cursor surface: presented once the image is on the screen the cursor is
	 * on (the cursor plane's flip, or the frame with the software cursor drawn in), discarded
	 * if the next image replaced it first or the cursor was hidden. */
	report_frame(app->report, app->cursor, point, now_ns());
	wl_surface_commit(app->cursor);
	app->frame_due = false;
}

/* ---- the pointer -------------------------------------------------------------------------- */

static void pointer_enter(void *data, struct wl_pointer *pointer, uint32_t serial,
			  struct wl_surface *surface, wl_fixed_t x, wl_fixed_t y)
{
	struct app *app = data;
	/* The hotspot is the top left corner, like an arrow's tip. A cursor surface keeps its
	 * content across enters, so setting it again is all a re-entry needs. */
	wl_pointer_set_cursor(pointer, serial, app->cursor, 0, 0);
	/* A hidden cursor gets no frame callbacks: one asked for before the pointer left may
	 * never come, so start afresh. */
	if (app->frame_callback) {
		wl_callback_destroy(app->frame_callback);
		app->frame_callback = NULL;
	}
	app->frame_due = true;
	app->animating = true;
}

static void pointer_leave(void *data, struct wl_pointer *pointer, uint32_t serial, struct wl_surface *surface)
{
	/* Frame callbacks stop while the cursor is not shown; the next enter picks up again. */
	((struct app *)data)->animating = false;
}

static void pointer_motion(void *data, struct wl_pointer *p, uint32_t time, wl_fixed_t x, wl_fixed_t y) {}
static void pointer_button(void *data, struct wl_pointer *p, uint32_t serial, uint32_t time,
			   uint32_t button, uint32_t state) {}
static void pointer_axis(void *data, struct wl_pointer *p, uint32_t time, uint32_t axis, wl_fixed_t value) {}

static const struct wl_pointer_listener pointer_listener = {
	.enter = pointer_enter,
	.leave = pointer_leave,
	.motion = pointer_motion,
	.button = pointer_button,
	.axis = pointer_axis,
};

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct app app = {.options = {.program = "explicit-sync-cursor", .frames = -1,
				      .buffer = BUFFER_SHM, .width = 320, .height = 240},
			  .cursor_size = 32};
	for (int i = 1; i < argc; i++) {
		if (options_parse_common(&app.options, OPTION_SIZE, usage, argc, argv, &i))
			continue;
		if (strcmp(argv[i], "--cursor-size") == 0 && i + 1 < argc)
			app.cursor_size = (int)options_number(&app.options, "--cursor-size", argv[++i], 16, 256);
		else
			options_unknown(&app.options, usage, argv[i]);
	}

	struct window *w = &app.window;
	window_open(w, app.options.program, WINDOW_NEEDS_SEAT);
	app.pointer = wl_seat_get_pointer(w->seat);
	wl_pointer_add_listener(app.pointer, &pointer_listener, &app);
	app.cursor = wl_compositor_create_surface(w->compositor);
	app.cursor_sync = wp_linux_drm_syncobj_manager_v1_get_surface(w->syncobj_manager, app.cursor);

	/* The window: one still image, already drawn, so its acquire point is signaled up front. */
	timeline_create(w, &app.background_acquire);
	timeline_create(w, &app.background_release);
	shared_buffer_create(w, BUFFER_SHM, app.options.width, app.options.height, &app.background);
	draw_background(&app.background);
	uint64_t one = 1;
	int r = syncobj_signal(w->dev, &app.background_acquire.fd, &one, 1);
	if (r)
		die_syncobj(w, "signaling the window's acquire point", r);
	wl_surface_attach(w->surface, app.background.wl_buffer, 0, 0);
	window_set_points(w, &app.background_acquire, 1, &app.background_release, 1);
	wl_surface_commit(w->surface);

	timeline_create(w, &app.acquire);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		timeline_create(w, &app.release[i]);
		shared_buffer_create(w, BUFFER_SHM, (uint32_t)app.cursor_size, (uint32_t)app.cursor_size,
				     &app.buffers[i]);
	}
	app.report = report_create(w, "explicit", "shm", app.options.presented_log);

	pthread_mutex_init(&app.lock, NULL);
	pthread_cond_init(&app.cond, NULL);
	if (pthread_create(&app.render_thread, NULL, render_main, &app) != 0) {
		fprintf(stderr, "explicit-sync-cursor: cannot start the render thread\n");
		return EXIT_CANNOT_RUN;
	}

	while (!w->closed && (app.options.frames < 0 || (long)app.frame < app.options.frames)) {
		if (app.frame_due && app.animating) {
			uint64_t start = now_ns();
			commit_next_cursor_frame(&app);
			report_main_thread(app.report, now_ns() - start);
		}
		window_dispatch(w);
	}

	pthread_mutex_lock(&app.lock);
	app.stop = true;
	pthread_cond_signal(&app.cond);
	pthread_mutex_unlock(&app.lock);
	pthread_join(app.render_thread, NULL);
	report_drain(app.report);
	report_print(app.report, app.options.json);

	report_destroy(app.report);
	if (app.frame_callback)
		wl_callback_destroy(app.frame_callback);
	wl_pointer_destroy(app.pointer);
	wp_linux_drm_syncobj_surface_v1_destroy(app.cursor_sync);
	wl_surface_destroy(app.cursor);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		shared_buffer_destroy(&app.buffers[i]);
		timeline_destroy(w, &app.release[i]);
	}
	shared_buffer_destroy(&app.background);
	timeline_destroy(w, &app.acquire);
	timeline_destroy(w, &app.background_acquire);
	timeline_destroy(w, &app.background_release);
	window_close(w);
	return 0;
}
