// One kernel syncobj a client handed the host, held through the device that imported it: a
// DRM render node (a handle) or /dev/syncobj (the fd itself). KernelTimeline builds the host's
// semantics (fence errors, binary points) on these few operations, each 0 or -errno.
#pragma once

#include "point_wait_impl.hpp"

#include <cstdint>
#include <memory>

namespace syncway::syncobj {

struct SyncFileStatus;

// A new binary syncobj holding the fence of one point as it was when taken (TRANSFER), so
// its status and error can still be read after later points made the kernel's chain forget
// them. Destroying it frees the binary syncobj.
class KernelFenceSnapshot {
public:
    virtual ~KernelFenceSnapshot() = default;
    // The fence's status through a sync_file (EXPORT_SYNC_FILE + SYNC_IOC_FILE_INFO + close).
    virtual int status(SyncFileStatus& out) const = 0;
};

class KernelSyncobj {
public:
    virtual ~KernelSyncobj() = default;
    // QUERY: the last point signaled in order, or (last_submitted) the last one submitted.
    // A binary syncobj (no timeline points) answers 0 to both.
    virtual int query(uint64_t& point, bool last_submitted) const = 0;
    virtual int signal(uint64_t point) const = 0;
    // -EINVAL when the point has no fence yet.
    virtual int snapshot(uint64_t point, std::unique_ptr<KernelFenceSnapshot>& out) const = 0;
    // A wait whose eventfd gets written once `point` is signaled or fails (submission waited
    // for): through the kernel's SYNCOBJ_EVENTFD, or the host's waiter thread.
    virtual Result<std::unique_ptr<PointWait::Impl>> wait(uint64_t point) const = 0;
};

} // namespace syncway::syncobj
