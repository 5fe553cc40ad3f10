/* Wire format of the syncway userspace syncobj service (C, header-only).
 *
 * Transport: a SOCK_SEQPACKET Unix socket; one message per request or reply, little-endian
 * host order (the service is local). File descriptors travel as SCM_RIGHTS on the same message.
 * Every request starts with syncobj_wire_header; most get exactly one reply, in order; the
 * fire-and-forget ones (CLOSE_HANDLE, SIGNALER_SIGNAL, CANCEL_WAIT) get none.
 * Timelines and signalers are named by per-connection handles obtained from CREATE, SUBMIT or
 * IMPORT (which takes the fd itself).
 */
#ifndef SYNCOBJ_SERVICE_WIRE_H
#define SYNCOBJ_SERVICE_WIRE_H

#include <stdint.h>

#define SYNCOBJ_WIRE_VERSION 1u
#define SYNCOBJ_WIRE_MAX_COUNT 256u   /* entries in one WAIT/SIGNAL/RESET/QUERY */
#define SYNCOBJ_WIRE_MAX_MESSAGE 4096u
#define SYNCOBJ_WIRE_MAX_ERROR_TEXT 200u

enum syncobj_wire_op {
    SYNCOBJ_OP_HELLO = 1,            /* -> reply.value = version */
    SYNCOBJ_OP_CREATE = 2,           /* syncobj_wire_create -> handle + timeline fd */
    SYNCOBJ_OP_IMPORT = 3,           /* header + fd -> handle, reply.aux = kind */
    SYNCOBJ_OP_CLOSE_HANDLE = 4,     /* syncobj_wire_handle, no reply */
    SYNCOBJ_OP_SUBMIT = 5,           /* syncobj_wire_point + a pipe's read end -> signaler handle;
                                        the client keeps the write end: the signaler */
    SYNCOBJ_OP_SIGNALER_SIGNAL = 6,  /* syncobj_wire_handle (a signaler), no reply; the same as
                                        writing a byte into the signaler's pipe */
    SYNCOBJ_OP_SIGNAL = 7,           /* syncobj_wire_array (points) */
    SYNCOBJ_OP_RESET = 8,            /* syncobj_wire_array (no points) */
    SYNCOBJ_OP_QUERY = 9,            /* syncobj_wire_array (no points) -> reply + u64[count] */
    SYNCOBJ_OP_WAIT = 10,            /* syncobj_wire_wait (+ points, handles) [+ eventfd] */
    SYNCOBJ_OP_CANCEL_WAIT = 11,     /* syncobj_wire_cancel, no reply */
    SYNCOBJ_OP_EVENTFD = 12,         /* syncobj_wire_eventfd + eventfd */
    SYNCOBJ_OP_TRANSFER = 13,        /* syncobj_wire_transfer */
    SYNCOBJ_OP_EXPORT_SYNC_FILE = 14,/* syncobj_wire_point -> fd */
    SYNCOBJ_OP_IMPORT_SYNC_FILE = 15,/* syncobj_wire_point + fd */
    SYNCOBJ_OP_POINT_STATE = 16,     /* syncobj_wire_point -> aux = state, value = errno */
    SYNCOBJ_OP_MAX_ = 17,
};

/* reply.aux of IMPORT */
enum syncobj_wire_kind { SYNCOBJ_KIND_TIMELINE = 1, SYNCOBJ_KIND_SIGNALER = 2 };

/* syncobj_wire_wait.flags beyond the kernel's WAIT_ALL/FOR_SUBMIT/AVAILABLE/DEADLINE (1..8):
 * answer now (done or ETIME) and register nothing; no eventfd is sent. */
#define SYNCOBJ_WIRE_WAIT_POLL_ONLY (1u << 16)

/* What the service adds to a WAIT eventfd when the wait completes: index + 1 of the entry that
 * completed it (0-based first_signaled), and the errno of a failed point in bits 32..47. */
#define SYNCOBJ_WIRE_WAIT_VALUE(index, error) \
    ((uint64_t)((index) + 1u) | ((uint64_t)(uint16_t)(error) << 32))

/* Exported sync files carry one of these (the service's end then closes). */
struct syncobj_wire_sync_status {
    uint32_t magic; /* SYNCOBJ_WIRE_SYNC_MAGIC */
    int32_t error;  /* 0: signaled; else errno */
};
#define SYNCOBJ_WIRE_SYNC_MAGIC 0x53594e43u /* "SYNC" */

struct syncobj_wire_header {
    uint16_t op;
    uint16_t pad; /* must be 0 */
};

struct syncobj_wire_create {
    struct syncobj_wire_header hdr;
    uint32_t flags; /* SYNCOBJ_CREATE_SIGNALED */
};

struct syncobj_wire_handle {
    struct syncobj_wire_header hdr;
    uint32_t handle;
};

struct syncobj_wire_point {
    struct syncobj_wire_header hdr;
    uint32_t handle;
    uint64_t point;
};

/* Followed by uint64_t points[count] (SIGNAL only) then uint32_t handles[count]. */
struct syncobj_wire_array {
    struct syncobj_wire_header hdr;
    uint32_t flags;
    uint32_t count;
    uint32_t pad; /* must be 0 */
};

/* Followed by uint64_t points[count] then uint32_t handles[count]. An eventfd travels with it
 * unless flags has SYNCOBJ_WIRE_WAIT_POLL_ONLY. */
struct syncobj_wire_wait {
    struct syncobj_wire_header hdr;
    uint32_t flags;
    uint32_t count;
    uint32_t wait_id; /* chosen by the client, unique among its pending waits */
};

struct syncobj_wire_cancel {
    struct syncobj_wire_header hdr;
    uint32_t wait_id;
};

struct syncobj_wire_eventfd {
    struct syncobj_wire_header hdr;
    uint32_t handle;
    uint64_t point;
    uint32_t flags;
    uint32_t pad; /* must be 0 */
};

struct syncobj_wire_transfer {
    struct syncobj_wire_header hdr;
    uint32_t src_handle;
    uint32_t dst_handle;
    uint32_t flags;
    uint64_t src_point;
    uint64_t dst_point;
};

/* Every reply; error text (NUL-terminated, at most SYNCOBJ_WIRE_MAX_ERROR_TEXT bytes) follows
 * when error != 0; QUERY's points follow a successful reply. */
struct syncobj_wire_reply {
    int32_t error; /* 0 or a positive errno */
    uint32_t aux;  /* handle, kind, state or first_signaled */
    uint64_t value;
};

#endif
