/* explicit-sync-gbm: a GPU client. Buffers are GBM buffer objects on a DRM render node,
 * rendered with EGL + GLES straight into their memory and shared as linux-dmabuf. The GPU's
 * completion is taken as a sync_file (EGL_ANDROID_native_fence_sync) and imported into the
 * frame's acquire point (syncobj_import_sync_file): the client never waits for the GPU on
 * the CPU, and the compositor shows the frame when the GPU is done.
 *
 * Before drawing into a buffer again, the GPU (not the CPU) waits for that buffer's release
 * point: it is exported as a sync_file and handed to EGL (eglWaitSyncKHR). That needs kernel
 * timelines (a render node's syncobjs or /dev/syncobj); with the userspace service's timelines,
 * whose exported fds are not kernel sync_files, the client waits on the CPU instead.
 *
 * Without a render node, or when its driver lacks what this needs, it says so and exits 2;
 * explicit-sync-gles is the example for machines without a GPU.
 */
#include "common/gl_scene.h"
#include "common/options.h"
#include "common/report.h"
#include "common/window.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <GLES2/gl2ext.h>
#include <drm_fourcc.h>
#include <gbm.h>
#include <xf86drm.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUFFER_COUNT 3

static const char usage[] =
	"usage: explicit-sync-gbm [OPTIONS]\n"
	"An animated GLES scene rendered by a GPU into GBM buffers; the GPU's completion (a\n"
	"sync_file) becomes each frame's acquire point. Needs a DRM render node.\n"
	OPTIONS_USAGE_COMMON OPTIONS_USAGE_SIZE "                   (default: 1920x1080)\n"
	"  --device PATH    the render node (default: the first /dev/dri/renderD* that works)\n"
	"  --load N         shader iterations per pixel, 1 to 64 (default 8)\n"
	OPTIONS_USAGE_EXIT;

struct egl_api {
	PFNEGLCREATESYNCKHRPROC create_sync;
	PFNEGLDESTROYSYNCKHRPROC destroy_sync;
	PFNEGLWAITSYNCKHRPROC wait_sync;
	PFNEGLDUPNATIVEFENCEFDANDROIDPROC dup_native_fence_fd;
	PFNEGLCREATEIMAGEKHRPROC create_image;
	PFNEGLDESTROYIMAGEKHRPROC destroy_image;
	PFNGLEGLIMAGETARGETTEXTURE2DOESPROC image_target_texture;
};

struct gpu_buffer {
	struct gbm_bo *bo;
	EGLImageKHR image;
	GLuint texture, fbo;
	struct wl_buffer *wl_buffer;
};

struct app {
	struct options options;
	const char *device;
	int load;
	struct window window;
	struct report *report;

	int drm_fd;
	struct gbm_device *gbm;
	EGLDisplay egl;
	EGLContext context;
	struct egl_api api;
	struct gl_scene scene;
	bool gpu_waits_release; /* kernel timelines: release points become GPU waits */

	struct timeline acquire;               /* point n: the GPU finished frame n */
	struct timeline release[BUFFER_COUNT]; /* point k: the k-th commit of that buffer is released */
	uint64_t uses[BUFFER_COUNT];
	struct gpu_buffer buffers[BUFFER_COUNT];
	struct wl_callback *frame_callback;
	bool frame_due;
	uint64_t frame;
};

static void cannot_run(const char *why, const char *detail)
{
	fprintf(stderr, "explicit-sync-gbm: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
	exit(EXIT_CANNOT_RUN);
}

/* ---- the device --------------------------------------------------------------------------- */

static int open_render_node(struct app *app)
{
	if (app->device) {
		int fd = open(app->device, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			cannot_run(app->device, strerror(errno));
		if (drmGetNodeTypeFromFd(fd) != DRM_NODE_RENDER)
			cannot_run(app->device, "not a DRM render node");
		return fd;
	}
	DIR *dir = opendir("/dev/dri");
	struct dirent *entry;
	int fd = -1;
	while (dir && fd < 0 && (entry = readdir(dir))) {
		if (strncmp(entry->d_name, "renderD", 7) != 0)
			continue;
		char path[sizeof("/dev/dri/") + sizeof(entry->d_name)];
		snprintf(path, sizeof(path), "/dev/dri/%s", entry->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (dir)
		closedir(dir);
	if (fd < 0)
		cannot_run("no DRM render node (/dev/dri/renderD*) to render on; on a machine without "
			   "a GPU, run explicit-sync-gles", NULL);
	return fd;
}

static void *proc(const char *name)
{
	void *p = (void *)eglGetProcAddress(name);
	if (!p)
		cannot_run("EGL does not resolve", name);
	return p;
}

static void setup_egl(struct app *app)
{
	app->gbm = gbm_create_device(app->drm_fd);
	if (!app->gbm)
		cannot_run("GBM cannot use the render node", app->device);
	PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display = proc("eglGetPlatformDisplayEXT");
	app->egl = get_platform_display(EGL_PLATFORM_GBM_KHR, app->gbm, NULL);
	if (app->egl == EGL_NO_DISPLAY || !eglInitialize(app->egl, NULL, NULL))
		cannot_run("cannot initialize EGL on the GBM device", NULL);
	const char *ext = eglQueryString(app->egl, EGL_EXTENSIONS);
	static const char *const needed[] = {
		"EGL_ANDROID_native_fence_sync", "EGL_KHR_wait_sync", "EGL_EXT_image_dma_buf_import",
		"EGL_KHR_surfaceless_context", "EGL_KHR_no_config_context",
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!gl_has_extension(ext, needed[i]))
			cannot_run("the device's EGL lacks", needed[i]);
	app->api.create_sync = proc("eglCreateSyncKHR");
	app->api.destroy_sync = proc("eglDestroySyncKHR");
	app->api.wait_sync = proc("eglWaitSyncKHR");
	app->api.dup_native_fence_fd = proc("eglDupNativeFenceFDANDROID");
	app->api.create_image = proc("eglCreateImageKHR");
	app->api.destroy_image = proc("eglDestroyImageKHR");
	app->api.image_target_texture = proc("glEGLImageTargetTexture2DOES");

	eglBindAPI(EGL_OPENGL_ES_API);
	static const EGLint attribs[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
	app->context = eglCreateContext(app->egl, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attribs);
	if (app->context == EGL_NO_CONTEXT)
		cannot_run("cannot create a GLES 2 context on the device", NULL);
	eglMakeCurrent(app->egl, EGL_NO_SURFACE, EGL_NO_SURFACE, app->context);
	if (!gl_has_extension((const char *)glGetString(GL_EXTENSIONS), "GL_OES_EGL_image"))
		cannot_run("the device's GLES lacks", "GL_OES_EGL_image");
	/* A render node whose GL is Mesa's software rasterizer (e.g. virtio-gpu without virgl) is
	 * not a GPU: the CPU would do the work, and explicit-sync-gles shows that case. */
	const char *renderer = (const char *)glGetString(GL_RENDERER);
	if (strstr(renderer, "llvmpipe") || strstr(renderer, "softpipe"))
		cannot_run("the render node's GL renders in software", renderer);
}

/* A GBM buffer object that GL renders into (through an EGLImage of its dma-buf) and the
 * compositor reads (the same dma-buf, shared with linux-dmabuf). */
static void create_buffer(struct app *app, struct gpu_buffer *b)
{
	uint32_t w = app->options.width, h = app->options.height;
	/* Linear first: every compositor renderer can read it, including a CPU one. */
	bool linear = true;
	b->bo = gbm_bo_create(app->gbm, w, h, GBM_FORMAT_XRGB8888, GBM_BO_USE_RENDERING | GBM_BO_USE_LINEAR);
	if (!b->bo) {
		linear = false;
		b->bo = gbm_bo_create(app->gbm, w, h, GBM_FORMAT_XRGB8888, GBM_BO_USE_RENDERING);
	}
	if (!b->bo)
		cannot_run("GBM cannot allocate an XRGB8888 buffer to render into", strerror(errno));
	int fd = gbm_bo_get_fd(b->bo);
	uint32_t stride = gbm_bo_get_stride(b->bo), offset = gbm_bo_get_offset(b->bo, 0);
	uint64_t modifier = gbm_bo_get_modifier(b->bo);

	EGLint attribs[] = {
		EGL_WIDTH, (EGLint)w, EGL_HEIGHT, (EGLint)h,
		EGL_LINUX_DRM_FOURCC_EXT, GBM_FORMAT_XRGB8888,
		EGL_DMA_BUF_PLANE0_FD_EXT, fd,
		EGL_DMA_BUF_PLANE0_OFFSET_EXT, (EGLint)offset,
		EGL_DMA_BUF_PLANE0_PITCH_EXT, (EGLint)stride,
		EGL_NONE, EGL_NONE, EGL_NONE, EGL_NONE, /* the modifier, where EGL takes one */
		EGL_NONE,
	};
	if (modifier != DRM_FORMAT_MOD_INVALID &&
	    gl_has_extension(eglQueryString(app->egl, EGL_EXTENSIONS), "EGL_EXT_image_dma_buf_import_modifiers")) {
		EGLint *m = &attribs[12];
		m[0] = EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT;
		m[1] = (EGLint)(modifier & 0xffffffffu);
		m[2] = EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT;
		m[3] = (EGLint)(modifier >> 32);
	}
	b->image = app->api.create_image(app->egl, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT, NULL, attribs);
	if (b->image == EGL_NO_IMAGE_KHR)
		cannot_run("EGL cannot import the GBM buffer's dma-buf", NULL);
	glGenTextures(1, &b->texture);
	glBindTexture(GL_TEXTURE_2D, b->texture);
	app->api.image_target_texture(GL_TEXTURE_2D, b->image);
	glGenFramebuffers(1, &b->fbo);
	glBindFramebuffer(GL_FRAMEBUFFER, b->fbo);
	glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, b->texture, 0);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
		cannot_run("GL cannot render into the GBM buffer", NULL);

	/* A driver that does not report modifiers: a buffer asked for linear is linear; any
	 * other keeps DRM_FORMAT_MOD_INVALID, linux-dmabuf's "the driver's implicit layout". */
	if (modifier == DRM_FORMAT_MOD_INVALID && linear)
		modifier = DRM_FORMAT_MOD_LINEAR;
	struct zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(app->window.dmabuf);
	zwp_linux_buffer_params_v1_add(params, fd, 0, offset, stride, (uint32_t)(modifier >> 32),
				       (uint32_t)modifier);
	b->wl_buffer = zwp_linux_buffer_params_v1_create_immed(params, (int32_t)w, (int32_t)h,
							       GBM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	close(fd); /* the EGLImage and the compositor hold their own references */
}

/* ---- per frame ---------------------------------------------------------------------------- */

/* Makes the GPU wait (or, with the service's timelines, this thread) until the compositor has
 * released the buffer's previous commit. */
static void wait_release(struct app *app, int index)
{
	struct window *w = &app->window;
	uint64_t point = app->uses[index];
	if (point == 0)
		return;
	int r;
	if (!app->gpu_waits_release) {
		if ((r = syncobj_wait(w->dev, &app->release[index].fd, &point, 1, INT64_MAX,
				      SYNCOBJ_WAIT_FOR_SUBMIT, NULL)))
			die_syncobj(w, "waiting for a release point", r);
		return;
	}
	/* A point has a fence to export only once the compositor has submitted it (it does when
	 * it lets go of the buffer, normally a frame ago): wait for that, not for the signal. */
	if ((r = syncobj_wait(w->dev, &app->release[index].fd, &point, 1, INT64_MAX,
			      SYNCOBJ_WAIT_FOR_SUBMIT | SYNCOBJ_WAIT_AVAILABLE, NULL)))
		die_syncobj(w, "waiting for a release point to be submitted", r);
	int sync_file = -1;
	if ((r = syncobj_export_sync_file(w->dev, app->release[index].fd, point, &sync_file)))
		die_syncobj(w, "exporting a release point as a sync_file", r);
	/* EGL takes the fd over. */
	EGLint attribs[] = {EGL_SYNC_NATIVE_FENCE_FD_ANDROID, sync_file, EGL_NONE};
	EGLSyncKHR sync = app->api.create_sync(app->egl, EGL_SYNC_NATIVE_FENCE_ANDROID, attribs);
	if (sync == EGL_NO_SYNC_KHR) {
		close(sync_file);
		fprintf(stderr, "explicit-sync-gbm: EGL refused a release sync_file (0x%x)\n", eglGetError());
		exit(EXIT_FAILED);
	}
	app->api.wait_sync(app->egl, sync, 0);
	app->api.destroy_sync(app->egl, sync);
}

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
	struct gpu_buffer *b = &app->buffers[index];

	wait_release(app, index);
	glBindFramebuffer(GL_FRAMEBUFFER, b->fbo);
	gl_scene_draw(&app->scene, point, app->load, app->options.width, app->options.height);

	/* A native fence after the draw; the flush sends the work and makes the fence's fd. */
	static const EGLint fence_attribs[] = {EGL_SYNC_NATIVE_FENCE_FD_ANDROID, EGL_NO_NATIVE_FENCE_FD_ANDROID, EGL_NONE};
	EGLSyncKHR fence = app->api.create_sync(app->egl, EGL_SYNC_NATIVE_FENCE_ANDROID, fence_attribs);
	glFlush();
	int sync_file = fence == EGL_NO_SYNC_KHR ? -1 : app->api.dup_native_fence_fd(app->egl, fence);
	if (fence != EGL_NO_SYNC_KHR)
		app->api.destroy_sync(app->egl, fence);
	if (sync_file < 0) {
		fprintf(stderr, "explicit-sync-gbm: no sync_file for the frame's GPU work (0x%x)\n", eglGetError());
		exit(EXIT_FAILED);
	}
	uint64_t submitted = now_ns();
	/* The acquire point becomes the GPU's fence: signaled when the GPU finishes. */
	int r = syncobj_import_sync_file(w->dev, app->acquire.fd, point, sync_file);
	close(sync_file);
	if (r)
		die_syncobj(w, "importing the GPU's sync_file into the acquire point", r);

	wl_surface_attach(w->surface, b->wl_buffer, 0, 0);
	wl_surface_damage_buffer(w->surface, 0, 0, (int32_t)app->options.width, (int32_t)app->options.height);
	window_set_points(w, &app->acquire, point, &app->release[index], ++app->uses[index]);
	app->frame_callback = wl_surface_frame(w->surface);
	wl_callback_add_listener(app->frame_callback, &frame_listener, app);
	report_frame(app->report, w->surface, point, submitted);
	wl_surface_commit(w->surface);
	app->frame_due = false;
}

int main(int argc, char **argv)
{
	struct app app = {.options = {.program = "explicit-sync-gbm", .frames = -1,
				      .buffer = BUFFER_DMABUF, .width = 1920, .height = 1080},
			  .load = 8, .drm_fd = -1};
	for (int i = 1; i < argc; i++) {
		if (options_parse_common(&app.options, OPTION_SIZE, usage, argc, argv, &i))
			continue;
		if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			app.device = argv[++i];
		else if (strcmp(argv[i], "--load") == 0 && i + 1 < argc)
			app.load = (int)options_number(&app.options, "--load", argv[++i], 1, GL_SCENE_MAX_LOAD);
		else
			options_unknown(&app.options, usage, argv[i]);
	}

	/* The device first: without one there is nothing to show, compositor or not. */
	app.drm_fd = open_render_node(&app);
	setup_egl(&app);
	gl_scene_init(&app.scene, app.options.program);

	struct window *w = &app.window;
	window_open(w, app.options.program, WINDOW_NEEDS_DMABUF);
	app.gpu_waits_release = syncobj_backend_of(w->dev) != SYNCOBJ_BACKEND_SERVICE;
	fprintf(stderr, "explicit-sync-gbm: %s on %s, %s timelines (release points waited on the %s)\n",
		(const char *)glGetString(GL_RENDERER), app.device ? app.device : "the first render node",
		syncobj_backend_name(syncobj_backend_of(w->dev)), app.gpu_waits_release ? "GPU" : "CPU");

	timeline_create(w, &app.acquire);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		timeline_create(w, &app.release[i]);
		create_buffer(&app, &app.buffers[i]);
	}
	app.report = report_create(w, "explicit", "gbm", app.options.presented_log);

	app.frame_due = true;
	while (!w->closed && (app.options.frames < 0 || (long)app.frame < app.options.frames)) {
		if (app.frame_due) {
			uint64_t start = now_ns();
			next_frame(&app);
			report_main_thread(app.report, now_ns() - start);
		}
		window_dispatch(w);
	}
	report_drain(app.report);
	report_print(app.report, app.options.json);

	report_destroy(app.report);
	if (app.frame_callback)
		wl_callback_destroy(app.frame_callback);
	for (int i = 0; i < BUFFER_COUNT; i++) {
		struct gpu_buffer *b = &app.buffers[i];
		wl_buffer_destroy(b->wl_buffer);
		glDeleteFramebuffers(1, &b->fbo);
		glDeleteTextures(1, &b->texture);
		app.api.destroy_image(app.egl, b->image);
		gbm_bo_destroy(b->bo);
		timeline_destroy(w, &app.release[i]);
	}
	timeline_destroy(w, &app.acquire);
	window_close(w);
	gl_scene_fini(&app.scene);
	eglMakeCurrent(app.egl, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(app.egl, app.context);
	eglTerminate(app.egl);
	gbm_device_destroy(app.gbm);
	close(app.drm_fd);
	return 0;
}
