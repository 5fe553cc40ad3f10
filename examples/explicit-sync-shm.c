/* explicit-sync-shm: a Wayland client that uses linux-drm-syncobj-v1 with wl_shm buffers.
 *
 * The main thread commits each frame *before* it is drawn: it submits an acquire point on a
 * timeline (wait-before-signal), hands the buffer to a render thread, and commits the buffer
 * with that acquire point at once. The compositor shows the frame the moment the render thread
 * signals the point. A buffer is drawn into again only after its release point (set at its
 * previous commit) is signaled: the compositor no longer reads it. Each buffer has its own
 * release timeline, as the protocol recommends: a compositor may release buffers in any order,
 * and a timeline's points signal in order.
 *
 * Build: C11, wayland-client, the generated xdg-shell, presentation-time and
 * linux-drm-syncobj-v1 client code, libsyncway-syncobj (syncobj/syncobj.h) and the helpers
 * in examples/common/ (window, buffers, options, the report). Run it inside syncway, e.g.
 * `syncway -- explicit-sync-shm`, which hands it $SYNCWAY_SYNCOBJ_SOCKET; with a kernel
 * syncobj backend (/dev/syncobj or a DRM render node) any compositor with the protocol works.
 */
#include "common/buffer.h"
#include "common/frame_code.h"
#include "common/options.h"
#include "common/report.h"
#include "common/window.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define BUFFER_COUNT 3

static const char usage[] =
	"usage: explicit-sync-shm [OPTIONS]\n"
	"A bar sweeping across a gradient, every frame committed before a render thread draws it\n"
	"(wl_shm buffers, linux-drm-syncobj-v1 acquire and release points).\n"
	OPTIONS_USAGE_COMMON OPTIONS_USAGE_SIZE "                   (default: 480x320)\n"
	OPTIONS_USAGE_EXIT;

/* One frame for the render thread: once `wait_release` on `release_fd` is signaled (0:
 * nothing to wait for), draw `frame` into `buffer`, then signal the acquire point through
 * `signaler`. */
struct job {
	struct shared_buffer *buffer;
	int release_fd;
	uint64_t wait_release;
	uint64_t frame;
	int signaler;
};

struct app {
	struct options options;
	struct window window;
	struct report *report;
	struct timeline acquire;                /* point n: frame n is drawn */
	struct timeline release[BUFFER_COUNT];  /* point k: the k-th commit of that buffer is released */
	uint64_t uses[BUFFER_COUNT];            /* commits of each buffer so far */
	struct shared_buffer buffers[BUFFER_COUNT];
	struct wl_callback *frame_callback;
	bool frame_due;
	uint64_t frame;

	/* main thread -> render thread */
	pthread_t render_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job queue[BUFFER_COUNT];
	int queued;
	bool stop;
};

/* ---- the render thread ------------------------------------------------------------------ */

static void draw(struct shared_buffer *buffer, uint64_t frame)
{
	/* A bar sweeping across a gradient: easy to see every frame arrive. */
	uint32_t w = buffer->width, h = buffer->height;
	uint32_t bar = (uint32_t)(frame * 6 % w);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			bool in_bar = x >= bar && x < bar + 24;
			buffer->pixels[y * w + x] = frame_pixel(in_bar ? 0xff : x * 255 / w,
								in_bar ? 0xff : y * 255 / h, frame);
		}
	}
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

		/* The compositor may still read this buffer for its previous commit: wait for that
		 * commit's release point before writing. */
		if (job.wait_release) {
			int r = syncobj_wait(w->dev, &job.release_fd, &job.wait_release, 1, INT64_MAX,
					     SYNCOBJ_WAIT_FOR_SUBMIT, NULL);
			if (r)
				die_syncobj(w, "waiting for a release point", r);
		}
		draw(job.buffer, job.frame);
		/* One syscall: the compositor applies the commit it has been holding. */
		int r = syncobj_signaler_signal(w->dev, job.signaler);
		if (r)
			die_syncobj(w, "signaling the acquire point", r);
		syncobj_fd_close(w->dev, job.signaler);
	}
}

/* ---- the main thread: one commit per frame callback -------------------------------------- */

static void frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct app *app = data;
	wl_callback_destroy(callback);
	app->frame_callback = NULL;
	app->frame_due = true;
}

static const struct wl_callback_listener frame_listener = {.done = frame_done};

static void commit_next_frame(struct app *app)
{
	struct window *w = &app->window;
	uint64_t point = ++app->frame;
	int index = (int)(point % BUFFER_COUNT);
	struct shared_buffer *buffer = &app->buffers[index];

	/* Wait-before-signal: the point exists now, the render thread signals it later. */
	int signaler = -1;
	int r = syncobj_submit(w->dev, app->acquire.fd, point, &signaler);
	if (r)
		die_syncobj(w, "submitting an acquire point", r);

	struct job job = {buffer, app->release[index].fd, app->uses[index], point, signaler};
	pthread_mutex_lock(&app->lock);
	/* A compositor that shows frames before they are drawn (it ignores acquire points) lets
	 * this thread run ahead of the renderer: wait for room rather than overrun the queue. */
	while (app->queued == BUFFER_COUNT)
		pthread_cond_wait(&app->cond, &app->lock);
	app->queue[app->queued++] = job;
	pthread_cond_broadcast(&app->cond);
	pthread_mutex_unlock(&app->lock);
	uint64_t release_point = ++app->uses[index];

	/* Commit right away, without waiting for the drawing. */
	wl_surface_attach(w->surface, buffer->wl_buffer, 0, 0);
	wl_surface_damage_buffer(w->surface, 0, 0, (int32_t)buffer->width, (int32_t)buffer->height);
	window_set_points(w, &app->acquire, point, &app->release[index], release_point);
	app->frame_callback = wl_surface_frame(w->surface);
	wl_callback_add_listener(app->frame_callback, &frame_listener, app);
	report_frame(app->report, w->surface, point, now_ns());
	wl_surface_commit(w->surface);
	app->frame_due = false;
}

int main(int argc, char **argv)
{
	struct app app = {.options = {.program = "explicit-sync-shm", .frames = -1,
				      .buffer = BUFFER_SHM, .width = 480, .height = 320}};
	for (int i = 1; i < argc; i++)
		if (!options_parse_common(&app.options, OPTION_SIZE, usage, argc, argv, &i))
			options_unknown(&app.options, usage, argv[i]);

	struct window *w = &app.window;
	window_open(w, app.options.program, 0);
	/* With --json stdout carries the report alone. */
	FILE *info = app.options.json ? stderr : stdout;
	fprintf(info, "explicit-sync-shm: timelines from the %s backend\n",
		syncobj_backend_name(syncobj_backend_of(w->dev)));
	fflush(info);
	timeline_create(w, &app.acquire);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		timeline_create(w, &app.release[i]);
		shared_buffer_create(w, BUFFER_SHM, app.options.width, app.options.height, &app.buffers[i]);
	}
	app.report = report_create(w, "explicit", "shm", app.options.presented_log);

	pthread_mutex_init(&app.lock, NULL);
	pthread_cond_init(&app.cond, NULL);
	if (pthread_create(&app.render_thread, NULL, render_main, &app) != 0) {
		fprintf(stderr, "explicit-sync-shm: cannot start the render thread\n");
		return EXIT_FAILED;
	}

	app.frame_due = true;
	while (!w->closed && (app.options.frames < 0 || (long)app.frame < app.options.frames)) {
		if (app.frame_due) {
			uint64_t start = now_ns();
			commit_next_frame(&app);
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
	fprintf(info, "explicit-sync-shm: %llu frames committed with explicit sync\n",
		(unsigned long long)app.frame);
	report_print(app.report, app.options.json);

	report_destroy(app.report);
	if (app.frame_callback)
		wl_callback_destroy(app.frame_callback);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		shared_buffer_destroy(&app.buffers[i]);
		timeline_destroy(w, &app.release[i]);
	}
	timeline_destroy(w, &app.acquire);
	window_close(w);
	return 0;
}
