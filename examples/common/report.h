/* What an example achieved, from the compositor's own account (wp_presentation): frames
 * presented, frames per second, and the latency from the moment a frame's rendering was
 * submitted to the moment it was presented, printed at exit as text or JSON.
 *
 * Latencies go into a fixed histogram (0.1 ms steps up to 2 s), so a run of any length
 * keeps the same small memory.
 */
#ifndef EXAMPLES_COMMON_REPORT_H
#define EXAMPLES_COMMON_REPORT_H

#include "window.h"

#include <stdbool.h>
#include <stdint.h>

struct report;

/* `mode` and `buffer` describe the run in the report ("explicit", "shm", ...). With a
 * `presented_log` path (--presented-log), each presented frame's number and presentation time
 * is written there as it arrives; a file that cannot be created exits EXIT_CANNOT_RUN. */
struct report *report_create(struct window *window, const char *mode, const char *buffer,
			     const char *presented_log);

/* Call for each commit that carries a new frame, before wl_surface_commit, with the time its
 * rendering was submitted (now_ns()); asks for the commit's presentation feedback. With a
 * NULL surface it only counts the commit. */
void report_frame(struct report *report, struct wl_surface *surface, uint64_t frame,
		  uint64_t submitted_ns);

/* Adds time the main thread spent producing a frame (rendering, waiting, committing): what
 * explicit sync keeps off the thread that also has to answer the compositor and input. */
void report_main_thread(struct report *report, uint64_t busy_ns);

/* Dispatches until every frame committed so far has been presented or discarded (at most
 * two seconds), so the report counts them all. */
void report_drain(struct report *report);

/* Prints the report to stdout: one line of text, or one JSON object with --json. */
void report_print(const struct report *report, bool json);

void report_destroy(struct report *report);

#endif
