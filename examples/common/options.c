#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long options_number(const struct options *options, const char *option, const char *text,
		    long min, long max)
{
	char *end = NULL;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < min || value > max) {
		fprintf(stderr, "%s: %s wants a whole number from %ld to %ld, not '%s'\n",
			options->program, option, min, max, text);
		exit(EXIT_CANNOT_RUN);
	}
	return value;
}

void options_unknown(const struct options *options, const char *usage, const char *arg)
{
	fprintf(stderr, "%s: unknown option '%s'\n%s", options->program, arg, usage);
	exit(EXIT_CANNOT_RUN);
}

const char *buffer_kind_name(enum buffer_kind kind)
{
	return kind == BUFFER_SHM ? "shm" : "dmabuf";
}

/* The value after argv[*i], or exit naming the option that lacks one. */
static const char *value_of(const struct options *options, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value\n", options->program, argv[*i]);
		exit(EXIT_CANNOT_RUN);
	}
	return argv[++*i];
}

bool options_parse_common(struct options *options, unsigned accepted, const char *usage,
			  int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		fputs(usage, stdout);
		exit(0);
	}
	if (strcmp(arg, "--json") == 0) {
		options->json = true;
		return true;
	}
	if (strcmp(arg, "--presented-log") == 0) {
		options->presented_log = value_of(options, argc, argv, i);
		return true;
	}
	if (strcmp(arg, "--frames") == 0) {
		options->frames = options_number(options, arg, value_of(options, argc, argv, i), 1,
						 1000000000L);
		return true;
	}
	if ((accepted & OPTION_BUFFER) && strcmp(arg, "--buffer") == 0) {
		const char *kind = value_of(options, argc, argv, i);
		if (strcmp(kind, "shm") == 0) {
			options->buffer = BUFFER_SHM;
		} else if (strcmp(kind, "dmabuf") == 0) {
			options->buffer = BUFFER_DMABUF;
		} else {
			fprintf(stderr, "%s: --buffer is shm or dmabuf, not '%s'\n", options->program, kind);
			exit(EXIT_CANNOT_RUN);
		}
		return true;
	}
	if ((accepted & OPTION_SIZE) && strcmp(arg, "--size") == 0) {
		const char *size = value_of(options, argc, argv, i);
		unsigned w = 0, h = 0;
		char tail = 0;
		/* Bounded so that a row and a whole buffer fit comfortably in 32 bits. */
		if (sscanf(size, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 8192 ||
		    h > 8192) {
			fprintf(stderr, "%s: --size wants WxH with each from 16 to 8192, not '%s'\n",
				options->program, size);
			exit(EXIT_CANNOT_RUN);
		}
		options->width = w;
		options->height = h;
		return true;
	}
	return false;
}
