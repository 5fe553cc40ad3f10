// What the two kernel backends (DRM render node, /dev/syncobj) share beyond the ioctls: wait-
// before-signal through sw_sync fences, and fence errors the syncobj uapi hides.
#pragma once

#include "backend.hpp"

#include <functional>
#include <string>

namespace syncway::syncobj {

// syncobj_submit on a kernel backend: a new sw_sync timeline (the signaler fd) and its fence at
// 1, imported at `point` through the backend's own import_sync_file. EOPNOTSUPP naming the path
// and what is missing where sw_sync is not reachable (debugfs, root).
int sw_sync_submit(Backend& backend, const char* backend_name, int fd, uint64_t point, int* signaler);
// syncobj_signaler_signal: one SW_SYNC_IOC_INC; EBADF for a closed fd, EINVAL for another kind.
int sw_sync_signal(const char* backend_name, int signaler);

// " (its signaler ... was closed without signaling)" or " (the error of the kernel fence ...)".
std::string kernel_fence_error_origin(int err);

// The points of one kernel WAIT, with a snapshot of each submitted point's fence held from
// before the wait (see DrmSyncobjDevice::snapshot): the backend says how to take and read them.
class WaitSnapshots {
public:
    virtual ~WaitSnapshots() = default;
    // Takes (and keeps) a snapshot of entry i; false when it cannot (point not submitted).
    virtual bool take(uint32_t i) = 0;
    virtual bool has(uint32_t i) const = 0;
    // The error of entry i's snapshot in the syncobj API's terms; 0 for none.
    virtual int error(uint32_t i) const = 0;
};

// A kernel WAIT that reports fence errors as the service does: snapshots first (unless
// WAIT_AVAILABLE), then `wait(first)` (the ioctl; 0 or -errno with last_error set), then WAIT_ALL
// fails with the first entry that failed, a wait for any with the entry that woke it.
int wait_reporting_fence_errors(WaitSnapshots& snaps, const int* fds, const uint64_t* points, uint32_t count,
                                uint32_t flags, uint32_t* first, const std::function<int(uint32_t*)>& wait);

} // namespace syncway::syncobj
