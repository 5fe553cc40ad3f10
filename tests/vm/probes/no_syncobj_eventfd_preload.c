/* libvm-no-syncobj-eventfd.so: an LD_PRELOAD library that makes DRM_IOCTL_SYNCOBJ_EVENTFD
 * fail with ENOTTY, as on kernels 5.2-6.5 (timeline syncobjs, no eventfd ioctl, which came in
 * 6.6), so the VM tier's 6.12 kernel can stand in for them.
 *
 * Only in the processes named in $SYNCWAY_VM_NO_EVENTFD (comma-separated short names, e.g.
 * "syncway,vm-fence-probe"): a check preloads it into a test process whose clients must keep
 * the ioctl while the compositor it starts loses it. Each such process prints one line to
 * stderr the first time it answers ENOTTY, so a check can prove the library was in effect. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drm.h>

/* The uapi struct (drm.h since 6.6; the headers we build against are older). */
struct no_eventfd_args {
    uint32_t handle;
    uint32_t flags;
    uint64_t point;
    int32_t fd;
    uint32_t pad;
};
#define NO_EVENTFD_IOCTL DRM_IOWR(0xCF, struct no_eventfd_args)

typedef int (*ioctl_fn)(int, unsigned long, ...);

static int targeted(void)
{
    static int answer = -1;
    if (answer >= 0)
        return answer;
    answer = 0;
    const char *names = getenv("SYNCWAY_VM_NO_EVENTFD");
    if (!names)
        return answer;
    size_t len = strlen(program_invocation_short_name);
    for (const char *p = names; *p;) {
        const char *end = strchrnul(p, ',');
        if ((size_t)(end - p) == len && strncmp(p, program_invocation_short_name, len) == 0)
            answer = 1;
        p = *end ? end + 1 : end;
    }
    return answer;
}

int ioctl(int fd, unsigned long request, ...)
{
    static ioctl_fn real;
    static int told;
    if (!real)
        real = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
    va_list args;
    va_start(args, request);
    void *arg = va_arg(args, void *);
    va_end(args);
    if (request != NO_EVENTFD_IOCTL || !targeted())
        return real(fd, request, arg);
    if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
        fprintf(stderr, "libvm-no-syncobj-eventfd: DRM_IOCTL_SYNCOBJ_EVENTFD answered ENOTTY in %s\n",
                program_invocation_short_name);
    errno = ENOTTY;
    return -1;
}
