#include "gl_scene.h"

#include "frame_code.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char vertex_source[] =
	"attribute vec2 a_pos;\n"
	"varying vec2 v_pos;\n"
	"void main() {\n"
	"    v_pos = vec2(a_pos.x, -a_pos.y);\n" /* upside down: see gl_scene.h */
	"    gl_Position = vec4(a_pos, 0.0, 1.0);\n"
	"}\n";

static const char fragment_source[] =
	"precision highp float;\n"
	"uniform float u_time;\n"
	"uniform int u_load;\n"
	"uniform float u_code;\n"
	"varying vec2 v_pos;\n"
	"void main() {\n"
	"    vec2 p = v_pos * vec2(1.6, 0.9);\n"
	"    float v = 0.0;\n"
	"    for (int i = 0; i < 64; i++) {\n" /* GLSL ES 1.0 loops need a constant bound */
	"        if (i >= u_load) break;\n"
	"        p = vec2(sin(p.y * 3.1 + u_time), cos(p.x * 2.7 - u_time * 0.8)) + p * 0.6;\n"
	"        v += p.x * p.y;\n"
	"    }\n"
	"    gl_FragColor = vec4(0.5 + 0.5 * sin(v * 2.0 + u_time), 0.5 + 0.5 * cos(v * 1.3), u_code, 1.0);\n"
	"}\n";

static GLuint compile(GLenum type, const char *source, const char *program_name)
{
	GLuint shader = glCreateShader(type);
	glShaderSource(shader, 1, &source, NULL);
	glCompileShader(shader);
	GLint ok = 0;
	glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[512] = "";
		glGetShaderInfoLog(shader, sizeof(log), NULL, log);
		fprintf(stderr, "%s: shader: %s\n", program_name, log);
		exit(EXIT_CANNOT_RUN);
	}
	return shader;
}

void gl_scene_init(struct gl_scene *s, const char *program_name)
{
	s->program = glCreateProgram();
	GLuint vs = compile(GL_VERTEX_SHADER, vertex_source, program_name);
	GLuint fs = compile(GL_FRAGMENT_SHADER, fragment_source, program_name);
	glAttachShader(s->program, vs);
	glAttachShader(s->program, fs);
	glBindAttribLocation(s->program, 0, "a_pos");
	glLinkProgram(s->program);
	glDeleteShader(vs); /* the program keeps them */
	glDeleteShader(fs);
	GLint ok = 0;
	glGetProgramiv(s->program, GL_LINK_STATUS, &ok);
	if (!ok) {
		fprintf(stderr, "%s: the shaders do not link\n", program_name);
		exit(EXIT_CANNOT_RUN);
	}
	s->u_time = glGetUniformLocation(s->program, "u_time");
	s->u_load = glGetUniformLocation(s->program, "u_load");
	s->u_code = glGetUniformLocation(s->program, "u_code");

	static const GLfloat quad[] = {-1, -1, 1, -1, -1, 1, 1, 1};
	glGenBuffers(1, &s->vbo);
	glBindBuffer(GL_ARRAY_BUFFER, s->vbo);
	glBufferData(GL_ARRAY_BUFFER, sizeof(quad), quad, GL_STATIC_DRAW);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, 0);
	glEnableVertexAttribArray(0);
	glDisable(GL_DITHER); /* the frame code in blue must come out exact */
}

void gl_scene_draw(const struct gl_scene *s, uint64_t frame, int load, uint32_t width, uint32_t height)
{
	glViewport(0, 0, (GLsizei)width, (GLsizei)height);
	glUseProgram(s->program);
	glUniform1f(s->u_time, (float)frame / 30.0f);
	glUniform1i(s->u_load, load);
	glUniform1f(s->u_code, (float)frame_code(frame) / 255.0f);
	glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

void gl_scene_fini(struct gl_scene *s)
{
	glDeleteProgram(s->program);
	glDeleteBuffers(1, &s->vbo);
}

bool gl_has_extension(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p && (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}
