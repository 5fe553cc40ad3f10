#include "kernel_fences.hpp"

#include "../kernel/sw_sync_timeline.hpp"
#include "../service/fd_kind.hpp"

#include <cerrno>
#include <cstring>

namespace syncway::syncobj {

int sw_sync_submit(Backend& backend, const char* backend_name, int fd, uint64_t point, int* signaler)
{
    // The kernel has no "submitted, unsignaled" syncobj point without a fence behind it; a
    // sw_sync fence is one that userspace signals. One timeline per submission: its fd is the
    // signaler, and closing every copy of it fails the point with ENOENT (syncobj_error_of).
    auto timeline = SwSyncTimeline::open();
    if (!timeline)
        return fail(EOPNOTSUPP, std::string("syncobj_submit on the ") + backend_name + " backend needs sw_sync, and " +
                                    timeline.error().message + "; use the service backend for wait-before-signal");
    auto fence = timeline->create_fence(1, "syncobj_submit");
    if (!fence)
        return fail(fence.error().code, fence.error().message);
    if (int r = backend.import_sync_file(fd, point, fence->get()))
        return r;
    *signaler = std::move(timeline.value()).release().release();
    return 0;
}

int sw_sync_signal(const char* backend_name, int signaler)
{
    int r = SwSyncTimeline::advance(signaler, 1);
    if (r == 0)
        return 0;
    FdInfo info = inspect_fd(signaler);
    if (info.kind == FdKind::Invalid)
        return fail(EBADF, "signaler " + describe_fd(signaler, info) + " is not open");
    return fail(r == -ENOTTY ? EINVAL : -r, "SW_SYNC_IOC_INC on " + describe_fd(signaler, info) + " failed (" +
                                                strerror(-r) + "): not a signaler of the " + backend_name +
                                                " backend (a sw_sync timeline)");
}

std::string kernel_fence_error_origin(int err)
{
    return err == SYNCOBJ_ERROR_SIGNALER_DIED ? " (its signaler, a sw_sync timeline, was closed without signaling)"
                                              : " (the error of the kernel fence at that point)";
}

int wait_reporting_fence_errors(WaitSnapshots& snaps, const int* fds, const uint64_t* points, uint32_t count,
                                uint32_t flags, uint32_t* first, const std::function<int(uint32_t*)>& wait)
{
    // The kernel's WAIT treats a fence that failed as signaled. Each submitted point's fence is
    // held (a snapshot) before waiting and read through a sync_file after the wait succeeded:
    // taken afterwards the snapshot could miss the error, because once a later point exists any
    // walk of the chain unlinks signaled nodes, errors and all (dma_fence_chain_walk).
    // WAIT_AVAILABLE waits need no check.
    bool check = !(flags & SYNCOBJ_WAIT_AVAILABLE);
    if (check)
        for (uint32_t i = 0; i < count; i++)
            snaps.take(i);
    uint32_t first_signaled = 0;
    if (int r = wait(&first_signaled))
        return r;
    if (first)
        *first = first_signaled;
    if (!check)
        return 0;
    bool all = flags & SYNCOBJ_WAIT_ALL;
    for (uint32_t i = all ? 0 : first_signaled; i < (all ? count : first_signaled + 1) && i < count; i++) {
        // Submitted during the wait (WAIT_FOR_SUBMIT): its snapshot now, which sees the error
        // while the point is still the newest on its timeline.
        if (!snaps.has(i) && !snaps.take(i))
            continue;
        if (int err = snaps.error(i)) {
            if (first)
                *first = i;
            return fail(err, "point " + std::to_string(points[i]) + " of fd " + std::to_string(fds[i]) +
                                 " failed: " + strerror(err) + kernel_fence_error_origin(err));
        }
    }
    return 0;
}

} // namespace syncway::syncobj
