/* Command-line options every example shares, and the exit statuses they all use.
 *
 * Exit status: 0 every frame went through; 1 something failed while running (the compositor
 * went away, a timeline call failed); 2 the example cannot run as asked (a bad option, no
 * Wayland compositor, a compositor without a protocol it needs, no timeline backend, no
 * usable renderer or device). The message on stderr names which.
 */
#ifndef EXAMPLES_COMMON_OPTIONS_H
#define EXAMPLES_COMMON_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

enum { EXIT_FAILED = 1, EXIT_CANNOT_RUN = 2 };

enum buffer_kind { BUFFER_SHM, BUFFER_DMABUF };

/* Which of the shared options an example takes (flags of options_parse). */
enum {
	OPTION_BUFFER = 1 << 0, /* --buffer shm|dmabuf */
	OPTION_SIZE = 1 << 1,   /* --size WxH */
};

struct options {
	const char *program;    /* for messages */
	long frames;            /* --frames N; -1: until the window is closed */
	bool json;              /* --json: the report as one JSON object on stdout */
	enum buffer_kind buffer;
	uint32_t width, height; /* --size */
	const char *presented_log; /* --presented-log FILE, or NULL */
};

/* Tries to take argv[*i] (and its value) as a shared option, advancing *i past what it
 * took. Returns true if it did. --help prints `usage` and exits 0; a bad value prints what
 * was wrong and exits EXIT_CANNOT_RUN. */
bool options_parse_common(struct options *options, unsigned accepted, const char *usage,
			  int argc, char **argv, int *i);

/* Parses a whole number in [min, max] or exits EXIT_CANNOT_RUN naming `option`. */
long options_number(const struct options *options, const char *option, const char *text,
		    long min, long max);

/* Prints "PROGRAM: unknown option ARG" and the usage, exits EXIT_CANNOT_RUN. */
void options_unknown(const struct options *options, const char *usage, const char *arg);

const char *buffer_kind_name(enum buffer_kind kind);

/* The usage lines of the shared options, for an example's --help. */
#define OPTIONS_USAGE_COMMON                                                                  \
	"  --frames N       commit N frames, report and exit (default: until the window closes)\n" \
	"  --json           print the report as one JSON object on stdout\n"                      \
	"  --presented-log FILE  write one line per presented frame: its number and when it was\n" \
	"                   presented (nanoseconds of the compositor's presentation clock)\n"     \
	"  --help           print this and exit\n"
#define OPTIONS_USAGE_BUFFER                                                                   \
	"  --buffer KIND    shm: wl_shm (memfd); dmabuf: linux-dmabuf from a dma-buf heap, else\n" \
	"                   udmabuf, else a sealed memfd (default: dmabuf)\n"
#define OPTIONS_USAGE_SIZE "  --size WxH       buffer size in pixels\n"
#define OPTIONS_USAGE_EXIT                                                                     \
	"Exit status: 0 all frames went through; 1 failed while running; 2 cannot run as\n"   \
	"asked (bad option, no compositor, no linux-drm-syncobj-v1, no timeline backend, no\n"  \
	"usable renderer or device). Runs inside syncway with no set-up: syncway -- PROGRAM.\n"

#endif
