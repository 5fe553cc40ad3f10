// Kernel syncobjs through a DRM render node whose driver has timeline syncobjs (Linux >= 5.2).
// DRM_IOCTL_SYNCOBJ_EVENTFD (Linux >= 6.6) is probed and reported: the client library needs it
// (its API offers eventfd waits), the compositor's host does not (it waits without it).
#pragma once

#include "sync_file_status.hpp"

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace syncway::syncobj {

// Not in the kernel 6.1 headers this project builds against (uapi drm.h since 6.6).
struct drm_syncobj_eventfd_args {
    uint32_t handle;
    uint32_t flags;
    uint64_t point;
    int32_t fd;
    uint32_t pad;
};

class DrmSyncobjDevice {
public:
    enum class Need { Timelines, TimelinesAndEventfd };
    // The first render node (/dev/dri/renderD128..) that passes the probe; ENODEV with the
    // reason for each node otherwise (or "no render nodes").
    static Result<DrmSyncobjDevice> open_first(Need need);
    // Probes one node: DRM_CAP_SYNCOBJ_TIMELINE, then whether EVENTFD(handle 0, fd -1) fails
    // with ENOENT (the ioctl exists and looked the handle up) — required only with
    // Need::TimelinesAndEventfd.
    static Result<DrmSyncobjDevice> open(const std::string& path, Need need);

    int fd() const noexcept { return fd_.get(); }
    const std::string& path() const noexcept { return path_; }
    // Whether the kernel has DRM_IOCTL_SYNCOBJ_EVENTFD (else eventfd() fails, e.g. ENOTTY).
    bool has_eventfd() const noexcept { return has_eventfd_; }

    // Each returns 0 or -errno, like the ioctls.
    int fd_to_handle(int syncobj_fd, uint32_t& handle) const;
    int handle_to_fd(uint32_t handle, int& syncobj_fd) const;
    void destroy(uint32_t handle) const;
    int eventfd(uint32_t handle, uint64_t point, int event_fd, uint32_t flags) const;
    int query(uint32_t* handles, uint64_t* points, uint32_t count, uint32_t flags) const;
    int signal(const uint32_t* handles, const uint64_t* points, uint32_t count) const;
    // DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT; timeout_nsec is absolute (CLOCK_MONOTONIC), INT64_MAX
    // for none; -ETIME when it passes. `first` (may be null): the lowest index signaled.
    int timeline_wait(const uint32_t* handles, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
                      uint32_t flags, uint32_t* first) const;

    // Fence errors, which the syncobj uapi hides (WAIT and QUERY count a failed fence as
    // signaled). A snapshot is a new binary syncobj holding the fence of `point` (0: the whole
    // fence) as it is now (CREATE + TRANSFER); the caller destroys it. -EINVAL when the point is
    // not submitted. Take it before the point can fail: once a later point exists, a walk of
    // the chain (any WAIT, QUERY, TRANSFER or new point) unlinks a signaled node, error and all
    // (dma_fence_chain_walk), while a snapshot keeps it.
    int snapshot(uint32_t handle, uint64_t point, uint32_t& binary) const;
    // The error the snapshot's fence resolved with, as the syncobj API names it: a sw_sync
    // fence failed by the release of its timeline (ENOENT) is SYNCOBJ_ERROR_SIGNALER_DIED, any
    // other fence error is returned as it is; 0 for none, for a pending fence, or when it
    // cannot be read. Export as sync_file, SYNC_IOC_FILE_INFO, close: three syscalls.
    int fence_error(uint32_t binary) const;
    // The status of the fence a binary syncobj holds, unmapped (the same three syscalls).
    int fence_status(uint32_t binary_handle, SyncFileStatus& out) const;

private:
    DrmSyncobjDevice(UniqueFd fd, std::string path, bool has_eventfd)
        : fd_(std::move(fd)), path_(std::move(path)), has_eventfd_(has_eventfd) {}
    UniqueFd fd_;
    std::string path_;
    bool has_eventfd_ = false;
};

} // namespace syncway::syncobj
