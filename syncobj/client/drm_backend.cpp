#include "drm_backend.hpp"

#include "../kernel/sw_sync_timeline.hpp"
#include "../service/fd_kind.hpp"

#include <xf86drm.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace syncway::syncobj {

namespace {

// Handles imported for one call, destroyed when it returns.
class Handles {
public:
    explicit Handles(const DrmSyncobjDevice& dev) : dev_(dev) {}
    ~Handles()
    {
        for (uint32_t h : list_)
            dev_.destroy(h);
    }
    int import(const int* fds, uint32_t count)
    {
        if (count == 0)
            return fail(EINVAL, "count is 0");
        for (uint32_t i = 0; i < count; i++) {
            uint32_t h = 0;
            if (int r = dev_.fd_to_handle(fds[i], h)) {
                // The kernel answers EINVAL for a closed fd as for a foreign one; our API (the
                // RFC's) promises EBADF for a closed fd on every backend, and names the fd.
                FdInfo info = inspect_fd(fds[i]);
                return fail(info.kind == FdKind::Invalid ? EBADF : -r,
                            describe_fd(fds[i], info) + " is not a kernel syncobj: " + strerror(-r));
            }
            list_.push_back(h);
        }
        return 0;
    }
    int add_new(uint32_t flags, uint32_t& h)
    {
        if (drmSyncobjCreate(dev_.fd(), flags, &h) != 0)
            return fail(errno, std::string("DRM_IOCTL_SYNCOBJ_CREATE failed: ") + strerror(errno));
        list_.push_back(h);
        return 0;
    }
    // A snapshot of `point` of `src` (DrmSyncobjDevice::snapshot), destroyed with the others;
    // 0 when there is none (an unsubmitted point). No last_error: callers treat a missing
    // snapshot as "nothing to check".
    uint32_t snapshot(uint32_t src, uint64_t point)
    {
        uint32_t h = 0;
        if (dev_.snapshot(src, point, h) != 0)
            return 0;
        list_.push_back(h);
        return h;
    }
    uint32_t* data() { return list_.data(); }
    uint32_t operator[](size_t i) const { return list_[i]; }

private:
    const DrmSyncobjDevice& dev_;
    std::vector<uint32_t> list_;
};

int ioctl_fail(const char* what)
{
    int e = errno ? errno : EIO;
    return fail(e, std::string(what) + " failed: " + strerror(e));
}

} // namespace

int DrmBackend::create(uint32_t flags, int* fd)
{
    Handles hs(dev_);
    uint32_t h = 0;
    if (int r = hs.add_new(flags, h))
        return r;
    if (drmSyncobjHandleToFD(dev_.fd(), h, fd))
        return ioctl_fail("DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD");
    return 0;
}

int DrmBackend::wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
                     uint32_t flags, uint32_t* first)
{
    Handles hs(dev_);
    if (int r = hs.import(fds, count))
        return r;
    // The kernel's WAIT treats a fence that failed as signaled. To report the error as the
    // service does, each submitted point's fence is held (a snapshot) before waiting and read
    // through a sync_file after the wait succeeded. Taken afterwards the snapshot could miss it:
    // once a later point exists, any walk of the chain (WAIT, QUERY, a transfer) unlinks
    // signaled nodes, errors and all (dma_fence_chain_walk). WAIT_AVAILABLE waits need no check.
    bool check = !(flags & SYNCOBJ_WAIT_AVAILABLE);
    std::vector<uint32_t> snaps(check ? count : 0, 0);
    for (uint32_t i = 0; i < snaps.size(); i++)
        snaps[i] = hs.snapshot(hs[i], points[i]);
    uint32_t first_signaled = 0;
    int r = drmSyncobjTimelineWait(dev_.fd(), hs.data(), const_cast<uint64_t*>(points), count,
                                   timeout_nsec, flags, &first_signaled);
    if (r)
        return fail(-r, std::string("DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT failed: ") + strerror(-r));
    if (first)
        *first = first_signaled;
    if (!check)
        return 0;
    // WAIT_ALL fails with the first entry that failed; a wait for any, with the entry it
    // returned (the kernel's first_signaled), as the service does.
    bool all = flags & SYNCOBJ_WAIT_ALL;
    for (uint32_t i = all ? 0 : first_signaled; i < (all ? count : first_signaled + 1) && i < count; i++) {
        // Submitted during the wait (WAIT_FOR_SUBMIT): its snapshot now, which sees the error
        // while the point is still the newest on its timeline.
        uint32_t snap = snaps[i] ? snaps[i] : hs.snapshot(hs[i], points[i]);
        if (int err = snap ? dev_.fence_error(snap) : 0) {
            if (first)
                *first = i;
            return fail(err, "point " + std::to_string(points[i]) + " of fd " + std::to_string(fds[i]) +
                                 " failed: " + strerror(err) + error_origin(err));
        }
    }
    return 0;
}

int DrmBackend::reset(const int* fds, uint32_t count)
{
    Handles hs(dev_);
    if (int r = hs.import(fds, count))
        return r;
    return drmSyncobjReset(dev_.fd(), hs.data(), count) ? ioctl_fail("DRM_IOCTL_SYNCOBJ_RESET") : 0;
}

int DrmBackend::signal(const int* fds, const uint64_t* points, uint32_t count)
{
    Handles hs(dev_);
    if (int r = hs.import(fds, count))
        return r;
    std::vector<uint64_t> ps(count, 0);
    if (points)
        ps.assign(points, points + count);
    return dev_.signal(hs.data(), ps.data(), count) ? ioctl_fail("DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL") : 0;
}

int DrmBackend::query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags)
{
    Handles hs(dev_);
    if (int r = hs.import(fds, count))
        return r;
    return dev_.query(hs.data(), points, count, flags) ? ioctl_fail("DRM_IOCTL_SYNCOBJ_QUERY") : 0;
}

int DrmBackend::transfer(int dst, uint64_t dst_point, int src, uint64_t src_point, uint32_t flags)
{
    Handles hs(dev_);
    int fds[2] = {src, dst};
    if (int r = hs.import(fds, 2))
        return r;
    return drmSyncobjTransfer(dev_.fd(), hs[1], dst_point, hs[0], src_point, flags)
               ? ioctl_fail("DRM_IOCTL_SYNCOBJ_TRANSFER")
               : 0;
}

int DrmBackend::eventfd(int fd, uint64_t point, int event_fd, uint32_t flags)
{
    Handles hs(dev_);
    if (int r = hs.import(&fd, 1))
        return r;
    int r = dev_.eventfd(hs[0], point, event_fd, flags);
    if (r == -EINVAL || r == -EBADF) {
        FdInfo info = inspect_fd(event_fd);
        if (info.kind != FdKind::Eventfd)
            return fail(-r, "DRM_IOCTL_SYNCOBJ_EVENTFD: " + describe_fd(event_fd, info) + " is not an eventfd");
    }
    return r ? fail(-r, std::string("DRM_IOCTL_SYNCOBJ_EVENTFD failed: ") + strerror(-r)) : 0;
}

int DrmBackend::export_sync_file(int fd, uint64_t point, int* sync_file)
{
    Handles hs(dev_);
    if (int r = hs.import(&fd, 1))
        return r;
    uint32_t src = hs[0];
    if (point != 0) {
        // sync_file export works on the binary fence: move the point there first.
        uint32_t tmp = 0;
        if (int r = hs.add_new(0, tmp))
            return r;
        if (drmSyncobjTransfer(dev_.fd(), tmp, 0, src, point, 0))
            return ioctl_fail("DRM_IOCTL_SYNCOBJ_TRANSFER");
        src = tmp;
    }
    return drmSyncobjExportSyncFile(dev_.fd(), src, sync_file) ? ioctl_fail("export sync_file") : 0;
}

int DrmBackend::import_sync_file(int fd, uint64_t point, int sync_file)
{
    Handles hs(dev_);
    if (int r = hs.import(&fd, 1))
        return r;
    if (point == 0)
        return drmSyncobjImportSyncFile(dev_.fd(), hs[0], sync_file) ? ioctl_fail("import sync_file") : 0;
    uint32_t tmp = 0;
    if (int r = hs.add_new(0, tmp))
        return r;
    if (drmSyncobjImportSyncFile(dev_.fd(), tmp, sync_file))
        return ioctl_fail("import sync_file");
    return drmSyncobjTransfer(dev_.fd(), hs[0], point, tmp, 0, 0) ? ioctl_fail("DRM_IOCTL_SYNCOBJ_TRANSFER") : 0;
}

std::string DrmBackend::error_origin(int err)
{
    return err == SYNCOBJ_ERROR_SIGNALER_DIED
               ? " (its signaler, a sw_sync timeline, was closed without signaling)"
               : " (the error of the kernel fence at that point)";
}

int DrmBackend::submit(int fd, uint64_t point, int* signaler)
{
    // The kernel has no "submitted, unsignaled" syncobj point without a fence behind it; a
    // sw_sync fence is one that userspace signals. One timeline per submission: its fd is the
    // signaler, and closing every copy of it fails the point (see DrmSyncobjDevice::fence_error).
    auto timeline = SwSyncTimeline::open();
    if (!timeline)
        return fail(EOPNOTSUPP, "syncobj_submit on the DRM backend needs sw_sync, and " +
                                    timeline.error().message + "; use the service backend for wait-before-signal");
    auto fence = timeline->create_fence(1, "syncobj_submit");
    if (!fence)
        return fail(fence.error().code, fence.error().message);
    if (int r = import_sync_file(fd, point, fence->get()))
        return r;
    *signaler = std::move(timeline.value()).release().release();
    return 0;
}

int DrmBackend::signaler_signal(int signaler)
{
    int r = SwSyncTimeline::advance(signaler, 1);
    if (r == 0)
        return 0;
    FdInfo info = inspect_fd(signaler);
    if (info.kind == FdKind::Invalid)
        return fail(EBADF, "signaler " + describe_fd(signaler, info) + " is not open");
    return fail(r == -ENOTTY ? EINVAL : -r, "SW_SYNC_IOC_INC on " + describe_fd(signaler, info) + " failed (" +
                                                strerror(-r) + "): not a signaler of the DRM backend (a sw_sync timeline)");
}

int DrmBackend::point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error)
{
    Handles hs(dev_);
    if (int r = hs.import(&fd, 1))
        return r;
    uint64_t head = 0, done = 0;
    uint32_t h = hs[0];
    if (dev_.query(&h, &head, 1, SYNCOBJ_QUERY_LAST_SUBMITTED) || dev_.query(&h, &done, 1, 0))
        return ioctl_fail("DRM_IOCTL_SYNCOBJ_QUERY");
    if (error)
        *error = 0;
    *state = point > head ? SYNCOBJ_POINT_UNSUBMITTED : point <= done ? SYNCOBJ_POINT_SIGNALED : SYNCOBJ_POINT_PENDING;
    // Seen only while the failed point is the newest on its timeline (see wait()).
    if (*state == SYNCOBJ_POINT_SIGNALED)
        if (uint32_t snap = hs.snapshot(h, point))
            if (int err = dev_.fence_error(snap)) {
                *state = SYNCOBJ_POINT_FAILED;
                if (error)
                    *error = err;
            }
    return 0;
}

} // namespace syncway::syncobj
