/* syncobj: timelines as file descriptors, for clients in any language.
 *
 * One API over three backends, picked at open: the kernel's /dev/syncobj device, a DRM render
 * node's syncobjs, or the syncway userspace service (a Unix socket named by
 * $SYNCWAY_SYNCOBJ_SOCKET, default $XDG_RUNTIME_DIR/syncobjd.sock). The operations mirror the
 * /dev/syncobj RFC: they take timeline fds, and return 0 or a negative errno (-EINVAL, -ENOENT,
 * -EBADF, -ETIME, ...). syncobj_last_error() gives a sentence naming the bad input.
 *
 * A device handle is safe to use from several threads.
 */
#ifndef SYNCOBJ_SYNCOBJ_H
#define SYNCOBJ_SYNCOBJ_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum syncobj_backend {
    SYNCOBJ_BACKEND_AUTO = 0,        /* $SYNCWAY_SYNCOBJ_BACKEND, else the first that works */
    SYNCOBJ_BACKEND_SYNCOBJ_DEV = 1, /* /dev/syncobj (RFC misc device, ioctl base 0xCD) */
    SYNCOBJ_BACKEND_DRM = 2,         /* DRM render node syncobjs (needs SYNCOBJ_EVENTFD) */
    SYNCOBJ_BACKEND_SERVICE = 3,     /* the userspace service */
};

#define SYNCOBJ_CREATE_SIGNALED (1u << 0)

#define SYNCOBJ_WAIT_ALL (1u << 0)
#define SYNCOBJ_WAIT_FOR_SUBMIT (1u << 1)
#define SYNCOBJ_WAIT_AVAILABLE (1u << 2)
#define SYNCOBJ_WAIT_DEADLINE (1u << 3) /* accepted; deadlines are hints the service ignores */

#define SYNCOBJ_QUERY_LAST_SUBMITTED (1u << 0)

/* Error a point resolves with when the process that submitted it went away unsignaled. */
#define SYNCOBJ_ERROR_SIGNALER_DIED EOWNERDEAD

enum syncobj_point_state {
    SYNCOBJ_POINT_UNSUBMITTED = 0,
    SYNCOBJ_POINT_PENDING = 1,
    SYNCOBJ_POINT_SIGNALED = 2,
    SYNCOBJ_POINT_FAILED = 3,
};

struct syncobj_device;

/* Opens a backend; forcing one that is unavailable fails with -ENODEV (see last_error). */
int syncobj_open(enum syncobj_backend backend, struct syncobj_device **out);

/* Flags of syncobj_open_flags.
 *
 * SYNCOBJ_OPEN_CACHE_FD_IDENTITY: the caller promises that, while the device is open, every
 * timeline or signaler fd it has used with (or received from) this device is closed with
 * syncobj_fd_close(), never with close(2), dup2()/dup3() over it, close_range() or an exec
 * that drops it. The library may then recognise such an fd by its number alone. Without the
 * flag (syncobj_open), the service backend checks each fd's identity with one getsockopt per
 * fd per call, so a number closed with close(2) and reused for another timeline is never
 * taken for the old one; with it, that syscall goes, and breaking the promise can make a
 * reused number act on the timeline it named before (only ever one this process was given,
 * so no other process's timelines), or fail with -ENOENT/-EINVAL. Kernel backends ignore
 * the flag (the kernel checks fds itself). */
#define SYNCOBJ_OPEN_CACHE_FD_IDENTITY (1u << 0)

/* syncobj_open with flags (SYNCOBJ_OPEN_*); unknown flags fail with -EINVAL. */
int syncobj_open_flags(enum syncobj_backend backend, uint32_t flags, struct syncobj_device **out);
void syncobj_close(struct syncobj_device *dev);

/* Closes a timeline or signaler fd and forgets what the library cached about it (the
 * service's handle for it). Required for such fds with SYNCOBJ_OPEN_CACHE_FD_IDENTITY; in
 * any mode it lets the service drop its handle at once instead of when the fd number is next
 * reused. Any other fd is simply closed. Returns 0 or -errno of close(2) (-EBADF for an fd
 * that is not open). */
int syncobj_fd_close(struct syncobj_device *dev, int fd);
enum syncobj_backend syncobj_backend_of(const struct syncobj_device *dev);
const char *syncobj_backend_name(enum syncobj_backend backend);
/* Human-readable detail of the last failure in this thread ("" if none). */
const char *syncobj_last_error(void);

int syncobj_create(struct syncobj_device *dev, uint32_t flags, int *timeline_fd);

/* timeout_nsec: absolute CLOCK_MONOTONIC; 0 polls; INT64_MAX waits forever. -ETIME on
 * timeout. A point that resolved with an error makes the wait fail with that error. */
int syncobj_wait(struct syncobj_device *dev, const int *fds, const uint64_t *points,
                 uint32_t count, int64_t timeout_nsec, uint32_t flags, uint32_t *first_signaled);
int syncobj_reset(struct syncobj_device *dev, const int *fds, uint32_t count);
/* points may be NULL (binary signal of every fd). */
int syncobj_signal(struct syncobj_device *dev, const int *fds, const uint64_t *points,
                   uint32_t count);
int syncobj_query(struct syncobj_device *dev, const int *fds, uint64_t *points, uint32_t count,
                  uint32_t flags);
/* dst_point 0 (or src_point 0) means the binary (whole) fence. */
int syncobj_transfer(struct syncobj_device *dev, int dst_fd, uint64_t dst_point, int src_fd,
                     uint64_t src_point, uint32_t flags);
/* One-shot: adds 1 to the eventfd when the point signals (or is available, with
 * SYNCOBJ_WAIT_AVAILABLE, the only flag allowed). Cannot be cancelled. */
int syncobj_eventfd(struct syncobj_device *dev, int fd, uint64_t point, int event_fd,
                    uint32_t flags);
/* A pollable fd, readable once the point has resolved. */
int syncobj_export_sync_file(struct syncobj_device *dev, int fd, uint64_t point, int *sync_file);
/* Accepts kernel sync_file fds and fds from syncobj_export_sync_file. */
int syncobj_import_sync_file(struct syncobj_device *dev, int fd, uint64_t point, int sync_file);

/* Wait-before-signal: submits `point` unsignaled and returns a signaler fd. Signal it with
 * syncobj_signaler_signal (one syscall, no round trip) from any process holding it; if every
 * copy of the signaler closes first, the point resolves with SYNCOBJ_ERROR_SIGNALER_DIED.
 * Close it with syncobj_fd_close: on the service backend the library keeps a second fd per
 * signaler it submitted (a read end of the signaler's pipe, so a late signal never raises
 * SIGPIPE), which close(2) leaves open until that fd number is reused or the device closes. */
int syncobj_submit(struct syncobj_device *dev, int fd, uint64_t point, int *signaler_fd);
int syncobj_signaler_signal(struct syncobj_device *dev, int signaler_fd);

/* State of one point, with the error of a failed point in *error (may be NULL). */
int syncobj_point_state(struct syncobj_device *dev, int fd, uint64_t point,
                        enum syncobj_point_state *state, int *error);

#ifdef __cplusplus
}
#endif

#endif
