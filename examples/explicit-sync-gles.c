/* explicit-sync-gles: OpenGL ES rendering on a machine without a GPU (Mesa's llvmpipe through
 * EGL's surfaceless platform), handed to the compositor before it is finished.
 *
 * Per frame the main thread records the GL work for an animated scene, inserts a fence
 * (EGL_KHR_fence_sync) and commits the frame at once with an acquire point that nobody has
 * signaled yet (wait-before-signal). A copy thread waits for the fence, moves the pixels into
 * the shared buffer, and signals the point; the compositor shows the frame the moment it is
 * signaled. The main thread is free again as soon as the GL work is queued.
 *
 * Why a copy: with no DRM device, EGL has no way to render into memory another process can
 * map. llvmpipe draws into its own private allocations, and the surfaceless platform offers
 * no dma-buf import (EGL_EXT_image_dma_buf_import) to make a wl_shm or dma-buf buffer the
 * render target. So the pixels are read back (glReadPixels) into the shared buffer; on
 * llvmpipe that is a plain memory copy, done by the copy thread so that it, too, is off the
 * main thread. With a GPU one would render into the dma-buf directly (see explicit-sync-gbm).
 *
 * --implicit does the classic thing for comparison: wait for the GL work to finish, copy, and
 * only then commit (its acquire point is signaled before the commit, so the compositor side
 * is the same and only the client's timing differs).
 *
 * Buffers: linux-dmabuf from heaps/ (default) or wl_shm (--buffer shm); one release timeline
 * per buffer, as the protocol recommends (buffers may be released in any order).
 */
#include "common/buffer.h"
#include "common/gl_scene.h"
#include "common/options.h"
#include "common/report.h"
#include "common/window.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_COUNT 3

static const char usage[] =
	"usage: explicit-sync-gles [OPTIONS]\n"
	"An animated GLES scene rendered by Mesa (llvmpipe without a GPU), committed with an\n"
	"acquire point right after the GL work is queued; a copy thread signals it when the\n"
	"pixels are in the shared buffer.\n"
	OPTIONS_USAGE_COMMON OPTIONS_USAGE_BUFFER OPTIONS_USAGE_SIZE
	"                   (default: 1920x1080)\n"
	"  --load N         shader iterations per pixel, 1 to 64 (default 2): the GL work per frame\n"
	"  --implicit       finish the GL work and copy, then commit (for comparison)\n"
	OPTIONS_USAGE_EXIT;

/* EGL_KHR_fence_sync entry points (extensions are looked up at run time). */
struct fence_api {
	PFNEGLCREATESYNCKHRPROC create;
	PFNEGLCLIENTWAITSYNCKHRPROC client_wait;
	PFNEGLDESTROYSYNCKHRPROC destroy;
};

/* One frame for the copy thread. */
struct job {
	EGLSyncKHR fence;       /* the frame's GL work is done when this signals */
	int index;              /* which texture and which shared buffer */
	uint64_t wait_release;  /* on that buffer's release timeline; 0: never committed */
	int signaler;           /* signals the frame's acquire point */
};

struct app {
	struct options options;
	int load;
	bool implicit;
	struct window window;
	struct report *report;

	EGLDisplay egl;
	EGLContext render_context, copy_context; /* the copy context shares the textures */
	struct fence_api fence;
	struct gl_scene scene;
	GLuint textures[BUFFER_COUNT];
	GLuint render_fbos[BUFFER_COUNT]; /* framebuffer objects belong to one context */

	struct timeline acquire;               /* point n: frame n is in its shared buffer */
	struct timeline release[BUFFER_COUNT]; /* point k: the k-th commit of that buffer is released */
	uint64_t uses[BUFFER_COUNT];
	struct shared_buffer buffers[BUFFER_COUNT];
	struct wl_callback *frame_callback;
	bool frame_due;
	uint64_t frame;

	/* main thread -> copy thread */
	pthread_t copy_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job queue[BUFFER_COUNT];
	int queued;
	bool stop;
};

static void cannot_run(const char *why)
{
	fprintf(stderr, "explicit-sync-gles: %s\n", why);
	exit(EXIT_CANNOT_RUN);
}

/* ---- EGL and GL set-up -------------------------------------------------------------------- */

static void setup_egl(struct app *app)
{
	const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!gl_has_extension(client, "EGL_MESA_platform_surfaceless"))
		cannot_run("EGL lacks EGL_MESA_platform_surfaceless (is Mesa's libEGL installed?)");
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
	app->egl = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (app->egl == EGL_NO_DISPLAY || !eglInitialize(app->egl, NULL, NULL))
		cannot_run("cannot initialize EGL on the surfaceless platform");
	const char *ext = eglQueryString(app->egl, EGL_EXTENSIONS);
	if (!gl_has_extension(ext, "EGL_KHR_fence_sync") || !gl_has_extension(ext, "EGL_KHR_surfaceless_context") ||
	    !gl_has_extension(ext, "EGL_KHR_no_config_context"))
		cannot_run("EGL lacks EGL_KHR_fence_sync, EGL_KHR_surfaceless_context or EGL_KHR_no_config_context");
	app->fence.create = (PFNEGLCREATESYNCKHRPROC)eglGetProcAddress("eglCreateSyncKHR");
	app->fence.client_wait = (PFNEGLCLIENTWAITSYNCKHRPROC)eglGetProcAddress("eglClientWaitSyncKHR");
	app->fence.destroy = (PFNEGLDESTROYSYNCKHRPROC)eglGetProcAddress("eglDestroySyncKHR");

	eglBindAPI(EGL_OPENGL_ES_API);
	static const EGLint attribs[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
	app->render_context = eglCreateContext(app->egl, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attribs);
	if (app->render_context == EGL_NO_CONTEXT)
		cannot_run("cannot create a GLES 2 context");
	app->copy_context = eglCreateContext(app->egl, EGL_NO_CONFIG_KHR, app->render_context, attribs);
	if (app->copy_context == EGL_NO_CONTEXT)
		cannot_run("cannot create a second GLES 2 context sharing the first");
	eglMakeCurrent(app->egl, EGL_NO_SURFACE, EGL_NO_SURFACE, app->render_context);
	const char *gl_ext = (const char *)glGetString(GL_EXTENSIONS);
	if (!gl_has_extension(gl_ext, "GL_EXT_read_format_bgra") || !gl_has_extension(gl_ext, "GL_EXT_texture_format_BGRA8888"))
		cannot_run("GLES lacks GL_EXT_read_format_bgra or GL_EXT_texture_format_BGRA8888 (pixels in "
			   "the shared buffer's byte order)");
}

static void setup_gl(struct app *app)
{
	gl_scene_init(&app->scene, app->options.program);

	/* One render target per shared buffer, so that frame n+1 renders while frame n is copied.
	 * They hold BGRA, the byte order of XRGB8888 in memory: reading them back is then a plain
	 * copy (llvmpipe would otherwise convert with a blit, queued behind any frame rendering
	 * after this one). */
	glGenTextures(BUFFER_COUNT, app->textures);
	glGenFramebuffers(BUFFER_COUNT, app->render_fbos);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		glBindTexture(GL_TEXTURE_2D, app->textures[i]);
		glTexImage2D(GL_TEXTURE_2D, 0, GL_BGRA_EXT, (GLsizei)app->options.width,
			     (GLsizei)app->options.height, 0, GL_BGRA_EXT, GL_UNSIGNED_BYTE, NULL);
		glBindFramebuffer(GL_FRAMEBUFFER, app->render_fbos[i]);
		glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, app->textures[i], 0);
		if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
			cannot_run("a BGRA texture cannot be rendered to");
	}
	/* Rows of the shared buffers are width * 4 bytes, so tight packing is right. */
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	glFinish(); /* the textures exist before the copy context looks at them */
}

/* Reads render target `index` (of the current context's framebuffers `fbos`) into its buffer. */
static void copy_to_buffer(struct app *app, const GLuint *fbos, int index)
{
	struct shared_buffer *b = &app->buffers[index];
	glBindFramebuffer(GL_FRAMEBUFFER, fbos[index]);
	shared_buffer_begin_write(b);
	glReadPixels(0, 0, (GLsizei)b->width, (GLsizei)b->height, GL_BGRA_EXT, GL_UNSIGNED_BYTE, b->pixels);
	shared_buffer_end_write(b);
}

static void wait_point(struct app *app, int fd, uint64_t point, const char *what)
{
	if (point == 0)
		return;
	int r = syncobj_wait(app->window.dev, &fd, &point, 1, INT64_MAX, SYNCOBJ_WAIT_FOR_SUBMIT, NULL);
	if (r)
		die_syncobj(&app->window, what, r);
}

/* ---- the copy thread ---------------------------------------------------------------------- */

static void *copy_main(void *data)
{
	struct app *app = data;
	eglMakeCurrent(app->egl, EGL_NO_SURFACE, EGL_NO_SURFACE, app->copy_context);
	GLuint fbos[BUFFER_COUNT];
	glGenFramebuffers(BUFFER_COUNT, fbos);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		glBindFramebuffer(GL_FRAMEBUFFER, fbos[i]);
		glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, app->textures[i], 0);
	}
	glPixelStorei(GL_PACK_ALIGNMENT, 4);

	for (;;) {
		pthread_mutex_lock(&app->lock);
		while (app->queued == 0 && !app->stop)
			pthread_cond_wait(&app->cond, &app->lock);
		if (app->queued == 0) {
			pthread_mutex_unlock(&app->lock);
			break;
		}
		struct job job = app->queue[0];
		memmove(app->queue, app->queue + 1, sizeof(app->queue[0]) * (size_t)--app->queued);
		pthread_cond_broadcast(&app->cond); /* room in the queue for the main thread */
		pthread_mutex_unlock(&app->lock);

#ifdef EXAMPLE_BROKEN_SIGNAL_EARLY
		/* Deliberately wrong, for the test suite only: the compositor is told the frame is
		 * ready before its pixels are in the buffer. */
		syncobj_signaler_signal(app->window.dev, job.signaler);
#endif
		app->fence.client_wait(app->egl, job.fence, 0, EGL_FOREVER_KHR);
		app->fence.destroy(app->egl, job.fence);
		/* The compositor may still read this buffer for its previous commit. */
		wait_point(app, app->release[job.index].fd, job.wait_release, "waiting for a release point");
		copy_to_buffer(app, fbos, job.index);
#ifndef EXAMPLE_BROKEN_SIGNAL_EARLY
		int r = syncobj_signaler_signal(app->window.dev, job.signaler);
		if (r)
			die_syncobj(&app->window, "signaling the acquire point", r);
#endif
		syncobj_fd_close(app->window.dev, job.signaler);
	}
	glDeleteFramebuffers(BUFFER_COUNT, fbos);
	eglMakeCurrent(app->egl, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	return NULL;
}

/* ---- the main thread: one frame per frame callback ---------------------------------------- */

static void frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct app *app = data;
	wl_callback_destroy(callback);
	app->frame_callback = NULL;
	app->frame_due = true;
}

static const struct wl_callback_listener frame_listener = {.done = frame_done};

static void next_frame(struct app *app)
{
	struct window *w = &app->window;
	uint64_t point = ++app->frame;
	int index = (int)(point % BUFFER_COUNT);
	struct shared_buffer *buffer = &app->buffers[index];
	uint64_t wait_release = app->uses[index];

	/* Render target `index` was last used by frame point-3: its copy must be done (that
	 * frame's acquire point) before it is drawn over. */
	if (point > BUFFER_COUNT)
		wait_point(app, app->acquire.fd, point - BUFFER_COUNT, "waiting for an earlier frame's copy");
	glBindFramebuffer(GL_FRAMEBUFFER, app->render_fbos[index]);
	gl_scene_draw(&app->scene, point, app->load, app->options.width, app->options.height);
	EGLSyncKHR fence = app->fence.create(app->egl, EGL_SYNC_FENCE_KHR, NULL);
	if (fence == EGL_NO_SYNC_KHR) {
		fprintf(stderr, "explicit-sync-gles: eglCreateSyncKHR failed (0x%x)\n", eglGetError());
		exit(EXIT_FAILED);
	}
	glFlush(); /* another thread waits for the fence: it must be on its way */
	uint64_t submitted = now_ns();

	int r;
	if (app->implicit) {
		app->fence.client_wait(app->egl, fence, 0, EGL_FOREVER_KHR);
		app->fence.destroy(app->egl, fence);
		wait_point(app, app->release[index].fd, wait_release, "waiting for a release point");
		copy_to_buffer(app, app->render_fbos, index);
		if ((r = syncobj_signal(w->dev, &app->acquire.fd, &point, 1)))
			die_syncobj(w, "signaling the acquire point", r);
	} else {
		/* Wait-before-signal: the point exists now, the copy thread signals it. */
		int signaler = -1;
		if ((r = syncobj_submit(w->dev, app->acquire.fd, point, &signaler)))
			die_syncobj(w, "submitting an acquire point", r);
		pthread_mutex_lock(&app->lock);
		/* A compositor that shows frames before they are drawn (it ignores acquire points) lets
		 * this thread run ahead of the renderer: wait for room rather than overrun the queue. */
		while (app->queued == BUFFER_COUNT)
			pthread_cond_wait(&app->cond, &app->lock);
		app->queue[app->queued++] = (struct job){fence, index, wait_release, signaler};
		pthread_cond_broadcast(&app->cond);
		pthread_mutex_unlock(&app->lock);
	}

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
	struct app app = {.options = {.program = "explicit-sync-gles", .frames = -1,
				      .buffer = BUFFER_DMABUF, .width = 1920, .height = 1080},
			  .load = 2};
	for (int i = 1; i < argc; i++) {
		if (options_parse_common(&app.options, OPTION_BUFFER | OPTION_SIZE, usage, argc, argv, &i))
			continue;
		if (strcmp(argv[i], "--implicit") == 0)
			app.implicit = true;
		else if (strcmp(argv[i], "--load") == 0 && i + 1 < argc)
			app.load = (int)options_number(&app.options, "--load", argv[++i], 1, GL_SCENE_MAX_LOAD);
		else
			options_unknown(&app.options, usage, argv[i]);
	}

	struct window *w = &app.window;
	window_open(w, app.options.program, app.options.buffer == BUFFER_DMABUF ? WINDOW_NEEDS_DMABUF : 0);
	setup_egl(&app);
	setup_gl(&app);
	fprintf(stderr, "explicit-sync-gles: %s, %s mode, %s buffers, %ux%u, load %d\n",
		(const char *)glGetString(GL_RENDERER), app.implicit ? "implicit" : "explicit",
		buffer_kind_name(app.options.buffer), app.options.width, app.options.height, app.load);

	timeline_create(w, &app.acquire);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		timeline_create(w, &app.release[i]);
		shared_buffer_create(w, app.options.buffer, app.options.width, app.options.height, &app.buffers[i]);
	}
	app.report = report_create(w, app.implicit ? "implicit" : "explicit",
				   buffer_kind_name(app.options.buffer), app.options.presented_log);

	pthread_mutex_init(&app.lock, NULL);
	pthread_cond_init(&app.cond, NULL);
	if (!app.implicit && pthread_create(&app.copy_thread, NULL, copy_main, &app) != 0)
		cannot_run("cannot start the copy thread");

	app.frame_due = true;
	while (!w->closed && (app.options.frames < 0 || (long)app.frame < app.options.frames)) {
		if (app.frame_due) {
			uint64_t start = now_ns();
			next_frame(&app);
			report_main_thread(app.report, now_ns() - start);
		}
		window_dispatch(w);
	}

	if (!app.implicit) {
		pthread_mutex_lock(&app.lock);
		app.stop = true;
		pthread_cond_signal(&app.cond);
		pthread_mutex_unlock(&app.lock);
		pthread_join(app.copy_thread, NULL);
	}
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
	glDeleteFramebuffers(BUFFER_COUNT, app.render_fbos);
	glDeleteTextures(BUFFER_COUNT, app.textures);
	gl_scene_fini(&app.scene);
	eglMakeCurrent(app.egl, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(app.egl, app.copy_context);
	eglDestroyContext(app.egl, app.render_context);
	eglTerminate(app.egl);
	return 0;
}
