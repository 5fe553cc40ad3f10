// The error a kernel sync_file's fence resolved with. The syncobj uapi never reports fence
// errors (WAIT and QUERY treat an errored fence as signaled); a sync_file does, through
// SYNC_IOC_FILE_INFO, whose per-fence status is < 0 for an error. The summary status (asked
// with num_fences 0) is that of the container, and a timeline point's container is a
// dma_fence_chain, which signals without its fence's error: so the fences are asked one by one.
#pragma once

#include <cstdint>
#include <string>

namespace syncway::syncobj {

struct SyncFileStatus {
    bool signaled = false;
    int error = 0;      // positive errno of the first fence that failed; 0 if none did
    std::string driver; // that fence's driver ("sw_sync", a GPU driver's name...)
};

// 0 or -errno of the ioctl (EINVAL: not a sync_file).
int sync_file_status(int sync_file, SyncFileStatus& out);

// The error a failed fence means in the syncobj API: a sw_sync fence failed by the release of
// its timeline (ENOENT) is SYNCOBJ_ERROR_SIGNALER_DIED (its signaler died unsignaled); any other
// fence error is itself; 0 when the fence did not fail.
int syncobj_error_of(const SyncFileStatus& status);

} // namespace syncway::syncobj
