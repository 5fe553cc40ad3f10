#include "sync_file_status.hpp"

#include "sw_sync_timeline.hpp"

#include <syncobj/syncobj.h>

#include <linux/sync_file.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace syncway::syncobj {

namespace {

int file_info(int fd, sync_file_info& info)
{
    int r;
    do
        r = ::ioctl(fd, SYNC_IOC_FILE_INFO, &info);
    while (r == -1 && errno == EINTR);
    return r == 0 ? 0 : -errno;
}

} // namespace

int sync_file_status(int sync_file, SyncFileStatus& out)
{
    // One ioctl for the usual sync_file (a timeline point's fence and the few still pending
    // before it); a bigger one is counted first (num_fences 0), then read.
    sync_fence_info fixed[8];
    std::vector<sync_fence_info> grown;
    sync_fence_info* fences = fixed;
    sync_file_info info{};
    info.num_fences = 8;
    std::memset(fixed, 0, sizeof fixed);
    info.sync_fence_info = reinterpret_cast<uintptr_t>(fixed);
    int r = file_info(sync_file, info);
    if (r == -EINVAL) {
        sync_file_info count{};
        if (int c = file_info(sync_file, count))
            return c;
        if (count.num_fences <= 8)
            return r; // EINVAL for another reason than the size: not a sync_file
        grown.assign(count.num_fences, sync_fence_info{});
        fences = grown.data();
        info = sync_file_info{};
        info.num_fences = count.num_fences;
        info.sync_fence_info = reinterpret_cast<uintptr_t>(grown.data());
        r = file_info(sync_file, info);
    }
    if (r)
        return r;
    out = SyncFileStatus{};
    out.signaled = info.status != 0;
    for (uint32_t i = 0; i < info.num_fences; i++)
        if (fences[i].status < 0) {
            out.signaled = true;
            out.error = -fences[i].status;
            out.driver.assign(fences[i].driver_name, strnlen(fences[i].driver_name, sizeof fences[i].driver_name));
            break;
        }
    return 0;
}

int syncobj_error_of(const SyncFileStatus& status)
{
    if (!status.error)
        return 0;
    if (status.driver == SwSyncTimeline::kDriverName && status.error == SwSyncTimeline::kOrphanedError)
        return SYNCOBJ_ERROR_SIGNALER_DIED;
    return status.error;
}

} // namespace syncway::syncobj
