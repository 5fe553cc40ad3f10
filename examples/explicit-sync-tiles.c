/* explicit-sync-tiles: a CPU renderer whose thread pool draws each frame in tiles, straight
 * into the shared buffer, while the compositor already holds the commit.
 *
 * The main thread submits the frame's acquire point (wait-before-signal), hands the frame to
 * the pool and commits at once. Worker threads take tiles one at a time; whichever worker
 * finishes the frame's last tile signals the acquire point, and the compositor shows the
 * frame. Nobody waits for the whole frame on the CPU: the signal goes from the last worker
 * straight to the compositor.
 *
 * The pool works on one frame at a time. Points on one timeline signal in order (signaling
 * point n+1 also signals n), so a frame that finished early must not signal before the frame
 * before it; one frame at a time keeps that true without more bookkeeping.
 *
 * Buffers: wl_shm or linux-dmabuf from heaps/ (--buffer); one release timeline per buffer.
 */
#include "common/buffer.h"
#include "common/frame_code.h"
#include "common/options.h"
#include "common/report.h"
#include "common/window.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_COUNT 3
#define MAX_THREADS 64

static const char usage[] =
	"usage: explicit-sync-tiles [OPTIONS]\n"
	"An animated Julia set drawn in tiles by a thread pool; the last tile of a frame signals\n"
	"its acquire point.\n"
	OPTIONS_USAGE_COMMON OPTIONS_USAGE_BUFFER OPTIONS_USAGE_SIZE
	"                   (default: 1280x720)\n"
	"  --threads N      worker threads, 1 to 64 (default 2)\n"
	"  --tile N         tile edge in pixels, 16 to 1024 (default 64)\n"
	"  --load N         iterations per pixel, 1 to 1000 (default 48)\n"
	OPTIONS_USAGE_EXIT;

/* The frame the pool is drawing. All fields but the pixels are under app.lock. */
struct frame_job {
	bool active;
	struct shared_buffer *buffer;
	int release_fd;
	uint64_t wait_release; /* that buffer's release point to wait for before writing; 0: none */
	bool writable;         /* the release point has been waited for */
	uint64_t frame;
	int signaler;          /* signals the frame's acquire point */
	unsigned next_tile, tiles_done, tile_count;
};

struct app {
	struct options options;
	int threads, tile, load;
	struct window window;
	struct report *report;
	struct timeline acquire;               /* point n: frame n is drawn */
	struct timeline release[BUFFER_COUNT]; /* point k: the k-th commit of that buffer is released */
	uint64_t uses[BUFFER_COUNT];
	struct shared_buffer buffers[BUFFER_COUNT];
	struct wl_callback *frame_callback;
	bool frame_due;
	uint64_t frame;

	pthread_t workers[MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a frame arrived, became writable, finished, or stop */
	struct frame_job job;
	bool stop;
};

/* ---- the pool ----------------------------------------------------------------------------- */

static void draw_tile(const struct app *app, const struct frame_job *job, unsigned tile)
{
	struct shared_buffer *b = job->buffer;
	unsigned columns = (b->width + (unsigned)app->tile - 1) / (unsigned)app->tile;
	unsigned x0 = tile % columns * (unsigned)app->tile, y0 = tile / columns * (unsigned)app->tile;
	unsigned x1 = x0 + (unsigned)app->tile < b->width ? x0 + (unsigned)app->tile : b->width;
	unsigned y1 = y0 + (unsigned)app->tile < b->height ? y0 + (unsigned)app->tile : b->height;
	/* A Julia set whose constant circles slowly near the edge of the Mandelbrot set (so the
	 * set has an inside, where every pixel takes all --load iterations): iteration counts
	 * make red and green. */
	double t = (double)job->frame / 40.0;
	double cr = -0.4 + 0.05 * cos(t), ci = 0.6 + 0.05 * sin(t);
	double scale = 3.0 / b->height;
	for (unsigned y = y0; y < y1; y++) {
		for (unsigned x = x0; x < x1; x++) {
			double zr = (x - b->width / 2.0) * scale, zi = (y - b->height / 2.0) * scale;
			int i = 0;
			while (i < app->load && zr * zr + zi * zi < 4.0) {
				double r = zr * zr - zi * zi + cr;
				zi = 2 * zr * zi + ci;
				zr = r;
				i++;
			}
			uint32_t level = i == app->load ? 0 : (uint32_t)(i * 9);
			b->pixels[(size_t)y * (b->stride / 4) + x] = frame_pixel(level, i == app->load ? 0x40 : level / 2, job->frame);
		}
	}
}

static void *worker_main(void *data)
{
	struct app *app = data;
	struct window *w = &app->window;
	struct frame_job *job = &app->job;
	pthread_mutex_lock(&app->lock);
	for (;;) {
		if (!job->active || job->next_tile == job->tile_count) {
			if (app->stop && !job->active)
				break;
			pthread_cond_wait(&app->cond, &app->lock);
			continue;
		}
		unsigned tile = job->next_tile++;
		if (tile == 0) {
			/* The first worker on a frame waits until the compositor no longer reads the
			 * buffer and opens the CPU-write bracket; the others wait for it (below). */
			pthread_mutex_unlock(&app->lock);
			if (job->wait_release) {
				int r = syncobj_wait(w->dev, &job->release_fd, &job->wait_release, 1,
						     INT64_MAX, SYNCOBJ_WAIT_FOR_SUBMIT, NULL);
				if (r)
					die_syncobj(w, "waiting for a release point", r);
			}
			shared_buffer_begin_write(job->buffer);
			pthread_mutex_lock(&app->lock);
			job->writable = true;
			pthread_cond_broadcast(&app->cond);
		}
		while (!job->writable)
			pthread_cond_wait(&app->cond, &app->lock);
#ifdef EXAMPLE_BROKEN_SIGNAL_EARLY
		/* Deliberately wrong, for the test suite only: the frame is declared finished when
		 * its first tile starts. */
		if (tile == 0)
			syncobj_signaler_signal(w->dev, job->signaler);
#endif
		pthread_mutex_unlock(&app->lock);

		draw_tile(app, job, tile);

		pthread_mutex_lock(&app->lock);
		if (++job->tiles_done == job->tile_count) {
			/* The last tile: the frame is whole. One syscall hands it to the compositor. */
			shared_buffer_end_write(job->buffer);
#ifndef EXAMPLE_BROKEN_SIGNAL_EARLY
			int r = syncobj_signaler_signal(w->dev, job->signaler);
			if (r)
				die_syncobj(w, "signaling the acquire point", r);
#endif
			syncobj_fd_close(w->dev, job->signaler);
			job->active = false;
			pthread_cond_broadcast(&app->cond);
		}
	}
	pthread_mutex_unlock(&app->lock);
	return NULL;
}

/* ---- the main thread: one commit per frame callback --------------------------------------- */

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

	int signaler = -1;
	int r = syncobj_submit(w->dev, app->acquire.fd, point, &signaler);
	if (r)
		die_syncobj(w, "submitting an acquire point", r);

	pthread_mutex_lock(&app->lock);
	/* The pool takes one frame at a time (see the top of the file). Frame callbacks pace us,
	 * so the previous frame is normally long done; if not, wait here. */
	while (app->job.active)
		pthread_cond_wait(&app->cond, &app->lock);
	unsigned columns = (buffer->width + (unsigned)app->tile - 1) / (unsigned)app->tile;
	unsigned rows = (buffer->height + (unsigned)app->tile - 1) / (unsigned)app->tile;
	app->job = (struct frame_job){
		.active = true, .buffer = buffer, .release_fd = app->release[index].fd,
		.wait_release = app->uses[index], .frame = point, .signaler = signaler,
		.tile_count = columns * rows,
	};
	pthread_cond_broadcast(&app->cond);
	pthread_mutex_unlock(&app->lock);
	uint64_t submitted = now_ns();

	/* Commit right away: the pool has only just started. */
	wl_surface_attach(w->surface, buffer->wl_buffer, 0, 0);
	wl_surface_damage_buffer(w->surface, 0, 0, (int32_t)buffer->width, (int32_t)buffer->height);
	window_set_points(w, &app->acquire, point, &app->release[index], ++app->uses[index]);
	app->frame_callback = wl_surface_frame(w->surface);
	wl_callback_add_listener(app->frame_callback, &frame_listener, app);
	report_frame(app->report, w->surface, point, submitted);
	wl_surface_commit(w->surface);
	app->frame_due = false;
}

int main(int argc, char **argv)
{
	struct app app = {.options = {.program = "explicit-sync-tiles", .frames = -1,
				      .buffer = BUFFER_DMABUF, .width = 1280, .height = 720},
			  .threads = 2, .tile = 64, .load = 48};
	for (int i = 1; i < argc; i++) {
		if (options_parse_common(&app.options, OPTION_BUFFER | OPTION_SIZE, usage, argc, argv, &i))
			continue;
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			app.threads = (int)options_number(&app.options, "--threads", argv[++i], 1, MAX_THREADS);
		else if (strcmp(argv[i], "--tile") == 0 && i + 1 < argc)
			app.tile = (int)options_number(&app.options, "--tile", argv[++i], 16, 1024);
		else if (strcmp(argv[i], "--load") == 0 && i + 1 < argc)
			app.load = (int)options_number(&app.options, "--load", argv[++i], 1, 1000);
		else
			options_unknown(&app.options, usage, argv[i]);
	}

	struct window *w = &app.window;
	window_open(w, app.options.program, app.options.buffer == BUFFER_DMABUF ? WINDOW_NEEDS_DMABUF : 0);
	timeline_create(w, &app.acquire);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		timeline_create(w, &app.release[i]);
		shared_buffer_create(w, app.options.buffer, app.options.width, app.options.height, &app.buffers[i]);
	}
	app.report = report_create(w, "explicit", buffer_kind_name(app.options.buffer),
				   app.options.presented_log);

	pthread_mutex_init(&app.lock, NULL);
	pthread_cond_init(&app.cond, NULL);
	for (int i = 0; i < app.threads; i++) {
		if (pthread_create(&app.workers[i], NULL, worker_main, &app) != 0) {
			fprintf(stderr, "explicit-sync-tiles: cannot start worker thread %d\n", i + 1);
			return EXIT_CANNOT_RUN;
		}
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
	pthread_cond_broadcast(&app.cond);
	pthread_mutex_unlock(&app.lock);
	for (int i = 0; i < app.threads; i++)
		pthread_join(app.workers[i], NULL);
	report_drain(app.report);
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
