/* libvm-ioctl-fault.so: an LD_PRELOAD library for the VM tier's fault-injection checks. It arms
 * the kernel's fail-nth fault injection for exactly one ioctl of one kind in the process it is
 * loaded into, so injected allocation failures land in that ioctl's kernel path and nowhere
 * else. (The tier's kernel lacks CONFIG_FAULT_INJECTION_STACKTRACE_FILTER, which would do the
 * same with require-start/end.) The kinds ($SYNCWAY_VM_IOCTL_FAULT_ON):
 *   atomic           a DRM atomic commit (DRM_IOCTL_MODE_ATOMIC without TEST_ONLY)
 *   syncobj-eventfd  DRM_IOCTL_SYNCOBJ_EVENTFD on a real syncobj (handle 0 is the support probe)
 *
 * Control: $SYNCWAY_VM_IOCTL_FAULT names a directory. Writing N (1, 2, ...) to DIR/arm makes
 * the next such ioctl fail its Nth fault-injectable kernel allocation (if it makes that many);
 * the library then removes DIR/arm and appends to DIR/log one line:
 *   "fail-nth N injected|not-reached: ioctl 0|-1 ERRNO-NAME"
 * Every other call passes through untouched. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

typedef int (*ioctl_fn)(int, unsigned long, ...);

/* The uapi struct of DRM_IOCTL_SYNCOBJ_EVENTFD (drm.h since 6.6; our headers are older). */
struct fault_syncobj_eventfd {
    uint32_t handle;
    uint32_t flags;
    uint64_t point;
    int32_t fd;
    uint32_t pad;
};
#define FAULT_IOCTL_SYNCOBJ_EVENTFD DRM_IOWR(0xCF, struct fault_syncobj_eventfd)

/* Whether this call is of the kind $SYNCWAY_VM_IOCTL_FAULT_ON names. */
static int targeted(unsigned long request, void *arg)
{
    const char *kind = getenv("SYNCWAY_VM_IOCTL_FAULT_ON");
    if (!kind)
        return 0;
    if (strcmp(kind, "atomic") == 0)
        return request == DRM_IOCTL_MODE_ATOMIC && !(((struct drm_mode_atomic *)arg)->flags & DRM_MODE_ATOMIC_TEST_ONLY);
    if (strcmp(kind, "syncobj-eventfd") == 0)
        return request == FAULT_IOCTL_SYNCOBJ_EVENTFD && ((struct fault_syncobj_eventfd *)arg)->handle != 0;
    return 0;
}

/* fd of this thread's /proc/thread-self/fail-nth, opened before the first arming (opening it
 * allocates, which must not count). One thread makes these calls in syncway (its event loop):
 * the first one seen. */
static int fail_nth_fd = -1;

static int read_arm(const char *dir)
{
    char path[512], text[32] = {0};
    snprintf(path, sizeof path, "%s/arm", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    unlink(path);
    return got > 0 ? atoi(text) : 0;
}

static void log_line(const char *dir, const char *line)
{
    char path[512];
    snprintf(path, sizeof path, "%s/log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t ignored = write(fd, line, strlen(line));
    (void)ignored;
    close(fd);
}

int ioctl(int fd, unsigned long request, ...)
{
    static ioctl_fn real;
    if (!real)
        real = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
    va_list args;
    va_start(args, request);
    void *arg = va_arg(args, void *);
    va_end(args);

    const char *dir = getenv("SYNCWAY_VM_IOCTL_FAULT");
    if (!dir || !targeted(request, arg))
        return real(fd, request, arg);
    if (fail_nth_fd < 0)
        fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
    int nth = read_arm(dir);
    if (nth <= 0 || fail_nth_fd < 0)
        return real(fd, request, arg);

    char text[32];
    int len = snprintf(text, sizeof text, "%d", nth);
    if (pwrite(fail_nth_fd, text, (size_t)len, 0) != len)
        return real(fd, request, arg);
    int ret = real(fd, request, arg);
    int saved = errno;
    /* 0 once the failure was injected; else the count left, which must not reach later calls. */
    char left[32] = {0};
    ssize_t got = pread(fail_nth_fd, left, sizeof left - 1, 0);
    ssize_t ignored = pwrite(fail_nth_fd, "0", 1, 0);
    (void)ignored;
    char line[160];
    snprintf(line, sizeof line, "fail-nth %d %s: ioctl %d %s\n", nth,
             got > 0 && atoi(left) == 0 ? "injected" : "not-reached", ret, ret == 0 ? "OK" : strerrorname_np(saved));
    log_line(dir, line);
    errno = saved;
    return ret;
}
