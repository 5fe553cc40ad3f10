#include "drm_blocking_wait.hpp"

#include <xf86drm.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway::syncobj {

Result<std::unique_ptr<DrmBlockingWait>> DrmBlockingWait::create(const DrmSyncobjDevice& dev)
{
    uint32_t handle = 0;
    if (drmSyncobjCreate(dev.fd(), 0, &handle) != 0)
        return make_error(errno, dev.path() + ": cannot create the waiter thread's syncobj: " + strerror(errno));
    return std::unique_ptr<DrmBlockingWait>(new DrmBlockingWait(dev, handle));
}

DrmBlockingWait::~DrmBlockingWait() { dev_.destroy(wake_handle_); }

int DrmBlockingWait::wait_any(const std::vector<Target>& targets, size_t& first)
{
    // The wake-up syncobj comes first; the kernel reports the lowest index signaled.
    handles_.assign(1, wake_handle_);
    points_.assign(1, seen_ + 1);
    for (const Target& t : targets) {
        handles_.push_back(t.handle);
        points_.push_back(t.point);
    }
    uint32_t index = 0;
    int r = dev_.timeline_wait(handles_.data(), points_.data(), uint32_t(handles_.size()), INT64_MAX,
                               DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, &index);
    if (r)
        return r;
    if (index == 0) {
        // Every wake() up to the point signaled now is seen: the caller rebuilds its set after
        // this, and a wake() after that signals a later point, ending the next wait at once.
        uint32_t h = wake_handle_;
        uint64_t done = seen_ + 1;
        dev_.query(&h, &done, 1, 0);
        seen_ = std::max(done, seen_ + 1);
        return kWoken;
    }
    first = index - 1;
    return 0;
}

int DrmBlockingWait::check(const Target& target)
{
    uint32_t h = target.handle;
    uint64_t p = target.point;
    return dev_.timeline_wait(&h, &p, 1, 0, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, nullptr);
}

void DrmBlockingWait::wake()
{
    // One caller at a time in practice (the host's thread); the atomic keeps points increasing
    // even if not.
    uint32_t h = wake_handle_;
    uint64_t p = ++wakes_;
    dev_.signal(&h, &p, 1);
}

} // namespace syncway::syncobj
