#include "report.h"

#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKET_NS 100000u /* 0.1 ms */
#define BUCKETS 20000u    /* up to 2 s; slower frames land in the last bucket */

/* One commit waiting for its presentation feedback. */
struct pending {
	struct report *report;
	struct wp_presentation_feedback *feedback;
	uint64_t frame;
	uint64_t submitted_ns;
	struct pending *next;
};

struct report {
	struct window *window;
	const char *mode, *buffer;
	const char *source; /* where "presented" comes from */
	clockid_t clock; /* the compositor's presentation clock */
	uint64_t committed, presented, discarded;
	uint64_t first_present_ns, last_present_ns;
	uint64_t start_cpu_ns;
	uint64_t main_busy_ns;
	struct pending *pending; /* in flight, newest first */
	FILE *log;               /* --presented-log, or NULL */
	uint32_t histogram[BUCKETS];
};

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void presentation_clock_id(void *data, struct wp_presentation *presentation, uint32_t clk_id)
{
	((struct report *)data)->clock = (clockid_t)clk_id;
}

static const struct wp_presentation_listener presentation_listener = {presentation_clock_id};

static void forget(struct pending *p)
{
	struct pending **link = &p->report->pending;
	while (*link != p)
		link = &(*link)->next;
	*link = p->next;
	wp_presentation_feedback_destroy(p->feedback);
	free(p);
}

static void feedback_sync_output(void *data, struct wp_presentation_feedback *feedback,
				 struct wl_output *output) {}

static void count_presented(struct report *r, uint64_t frame, uint64_t submitted_ns, uint64_t at)
{
	if (r->log)
		fprintf(r->log, "%" PRIu64 " %" PRIu64 "\n", frame, at);
	uint64_t latency = at > submitted_ns ? at - submitted_ns : 0;
	uint64_t bucket = latency / BUCKET_NS;
	r->histogram[bucket < BUCKETS ? bucket : BUCKETS - 1]++;
	if (r->presented++ == 0)
		r->first_present_ns = at;
	r->last_present_ns = at;
}

static void feedback_presented(void *data, struct wp_presentation_feedback *feedback,
			       uint32_t tv_sec_hi, uint32_t tv_sec_lo, uint32_t tv_nsec, uint32_t refresh,
			       uint32_t seq_hi, uint32_t seq_lo, uint32_t flags)
{
	struct pending *p = data;
	count_presented(p->report, p->frame, p->submitted_ns,
			(((uint64_t)tv_sec_hi << 32 | tv_sec_lo) * 1000000000u) + tv_nsec);
	forget(p);
}

static void feedback_discarded(void *data, struct wp_presentation_feedback *feedback)
{
	struct pending *p = data;
	p->report->discarded++;
	forget(p);
}

static const struct wp_presentation_feedback_listener feedback_listener = {
	.sync_output = feedback_sync_output,
	.presented = feedback_presented,
	.discarded = feedback_discarded,
};

struct report *report_create(struct window *window, const char *mode, const char *buffer,
			     const char *presented_log)
{
	struct report *r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "%s: out of memory\n", window->program);
		exit(1);
	}
	r->window = window;
	r->mode = mode;
	r->buffer = buffer;
	r->clock = CLOCK_MONOTONIC;
	r->source = "wp_presentation";
	r->start_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (presented_log && !(r->log = fopen(presented_log, "we"))) {
		fprintf(stderr, "%s: --presented-log %s: %s\n", window->program, presented_log, strerror(errno));
		exit(EXIT_CANNOT_RUN);
	}
	wp_presentation_add_listener(window->presentation, &presentation_listener, r);
	/* The clock_id event arrives right after the bind; fetch it before any timestamp. */
	wl_display_roundtrip(window->display);
	return r;
}

void report_frame(struct report *r, struct wl_surface *surface, uint64_t frame, uint64_t submitted_ns)
{
	r->committed++;
	if (!surface)
		return;
	struct pending *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", r->window->program);
		exit(1);
	}
	/* now_ns() is CLOCK_MONOTONIC; move the stamp onto the compositor's clock if it differs. */
	if (r->clock != CLOCK_MONOTONIC)
		submitted_ns = submitted_ns - now_ns() + clock_ns(r->clock);
	p->report = r;
	p->frame = frame;
	p->submitted_ns = submitted_ns;
	p->feedback = wp_presentation_feedback(r->window->presentation, surface);
	wp_presentation_feedback_add_listener(p->feedback, &feedback_listener, p);
	p->next = r->pending;
	r->pending = p;
}

void report_main_thread(struct report *r, uint64_t busy_ns)
{
	r->main_busy_ns += busy_ns;
}

void report_drain(struct report *r)
{
	uint64_t deadline = now_ns() + 2000000000u;
	while (r->pending && now_ns() < deadline) {
		/* A round trip returns once the compositor has handled everything before it; the
		 * feedback of a frame not yet on screen comes later, so poll at frame pace. */
		if (wl_display_roundtrip(r->window->display) < 0)
			return;
		if (r->pending)
			nanosleep(&(struct timespec){.tv_nsec = 4000000}, NULL);
	}
}

/* The latency below which `fraction` of the presented frames fell, in milliseconds (the upper
 * edge of its 0.1 ms bucket). */
static double percentile_ms(const struct report *r, double fraction)
{
	if (r->presented == 0)
		return 0;
	uint64_t rank = (uint64_t)(fraction * (double)r->presented + 0.999999);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < BUCKETS; i++) {
		seen += r->histogram[i];
		if (seen >= rank)
			return (i + 1) * (BUCKET_NS / 1e6);
	}
	return BUCKETS * (BUCKET_NS / 1e6);
}

void report_print(const struct report *r, bool json)
{
	double span_s = (double)(r->last_present_ns - r->first_present_ns) / 1e9;
	/* Frames per second between the first and the last presentation. */
	double fps = r->presented > 1 && span_s > 0 ? (double)(r->presented - 1) / span_s : 0;
	double cpu_ms = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - r->start_cpu_ns) / 1e6;
	double cpu_per_frame = r->committed ? cpu_ms / (double)r->committed : 0;
	double main_per_frame = r->committed ? (double)r->main_busy_ns / 1e6 / (double)r->committed : 0;
	const char *backend = syncobj_backend_name(syncobj_backend_of(r->window->dev));
	if (json) {
		printf("{\"example\":\"%s\",\"mode\":\"%s\",\"buffer\":\"%s\",\"timelines\":\"%s\","
		       "\"frames_committed\":%" PRIu64 ",\"frames_presented\":%" PRIu64
		       ",\"frames_discarded\":%" PRIu64 ",\"frames_per_second\":%.2f,"
		       "\"latency_ms\":{\"p50\":%.1f,\"p99\":%.1f},\"client_cpu_ms_per_frame\":%.3f,"
		       "\"main_thread_ms_per_frame\":%.3f,\"presented_from\":\"%s\"}\n",
		       r->window->program, r->mode, r->buffer, backend, r->committed, r->presented,
		       r->discarded, fps, percentile_ms(r, 0.5), percentile_ms(r, 0.99), cpu_per_frame,
		       main_per_frame, r->source);
	} else {
		printf("%s: %" PRIu64 " frames presented (%" PRIu64 " discarded) of %" PRIu64
		       " committed, %s, %s buffers, %s timelines: %.1f frames/s; submit to present "
		       "p50 %.1f ms, p99 %.1f ms; client CPU %.2f ms/frame, main thread busy %.2f ms/frame "
		       "(presented: from %s)\n",
		       r->window->program, r->presented, r->discarded, r->committed, r->mode, r->buffer,
		       backend, fps, percentile_ms(r, 0.5), percentile_ms(r, 0.99), cpu_per_frame,
		       main_per_frame, r->source);
	}
	fflush(stdout);
}

void report_destroy(struct report *r)
{
	while (r->pending)
		forget(r->pending);
	if (r->log)
		fclose(r->log);
	free(r);
}
