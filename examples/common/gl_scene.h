/* The animated GLES 2 scene the GL examples draw: plasma from an iterated map, `load`
 * iterations of real arithmetic per pixel. Red and green are the picture; blue is the frame
 * code (frame_code.h), exact in 8 bits. Drawn upside down (row 0 of the framebuffer is the
 * top of the picture), which is what a buffer read back with glReadPixels or shared as a
 * dma-buf needs: both put GL's row 0 first in memory, and Wayland buffers start at the top.
 */
#ifndef EXAMPLES_COMMON_GL_SCENE_H
#define EXAMPLES_COMMON_GL_SCENE_H

#include <GLES2/gl2.h>

#include <stdbool.h>
#include <stdint.h>

#define GL_SCENE_MAX_LOAD 64

struct gl_scene {
	GLuint program, vbo;
	GLint u_time, u_load, u_code;
};

/* Needs a current GLES 2 context. Exits EXIT_CANNOT_RUN if the shaders do not build. */
void gl_scene_init(struct gl_scene *scene, const char *program_name);
/* Draws frame `frame` over the whole bound framebuffer of width x height. */
void gl_scene_draw(const struct gl_scene *scene, uint64_t frame, int load, uint32_t width, uint32_t height);
void gl_scene_fini(struct gl_scene *scene);

/* Whether a space-separated extension list names `name` exactly. */
bool gl_has_extension(const char *list, const char *name);

#endif
