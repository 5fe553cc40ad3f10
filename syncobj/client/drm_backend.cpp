#include "drm_backend.hpp"

#include "kernel_fences.hpp"

#include "../kernel/sync_file_status.hpp"
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
    // Snapshots as binary handles of this device, destroyed with the call's other handles.
    class Snapshots final : public WaitSnapshots {
    public:
        Snapshots(const DrmSyncobjDevice& dev, Handles& hs, const uint64_t* points, uint32_t count)
            : dev_(dev), hs_(hs), points_(points), snaps_(count, 0)
        {
        }
        bool take(uint32_t i) override { return (snaps_[i] = hs_.snapshot(hs_[i], points_[i])) != 0; }
        bool has(uint32_t i) const override { return snaps_[i] != 0; }
        int error(uint32_t i) const override { return dev_.fence_error(snaps_[i]); }

    private:
        const DrmSyncobjDevice& dev_;
        Handles& hs_;
        const uint64_t* points_;
        std::vector<uint32_t> snaps_;
    } snaps(dev_, hs, points, count);
    // hs.data() is read before any snapshot is taken: snapshots append to the same list.
    std::vector<uint32_t> handles(hs.data(), hs.data() + count);
    return wait_reporting_fence_errors(snaps, fds, points, count, flags, first, [&](uint32_t* first_signaled) {
        int r = drmSyncobjTimelineWait(dev_.fd(), handles.data(), const_cast<uint64_t*>(points), count, timeout_nsec,
                                       flags, first_signaled);
        return r ? fail(-r, std::string("DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT failed: ") + strerror(-r)) : 0;
    });
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

int DrmBackend::submit(int fd, uint64_t point, int* signaler) { return sw_sync_submit(*this, "DRM", fd, point, signaler); }

int DrmBackend::signaler_signal(int signaler) { return sw_sync_signal("DRM", signaler); }

// QUERY reports timeline points only: a binary syncobj (an imported sync_file, for one) answers
// 0 whatever its fence does, so point 0 is asked of the fence itself.
int DrmBackend::binary_point_state(uint32_t handle, enum syncobj_point_state* state, int* error)
{
    uint32_t snap = 0;
    int r = dev_.snapshot(handle, 0, snap);
    if (r == -EINVAL) {
        *state = SYNCOBJ_POINT_UNSUBMITTED;  // no fence yet
        return 0;
    }
    if (r)
        return fail(-r, std::string("DRM_IOCTL_SYNCOBJ_TRANSFER of point 0 failed: ") + strerror(-r));
    SyncFileStatus status;
    int s = dev_.fence_status(snap, status);
    dev_.destroy(snap);
    if (s)
        return fail(-s, std::string("reading the fence of point 0 (SYNC_IOC_FILE_INFO) failed: ") + strerror(-s));
    int err = status.signaled ? syncobj_error_of(status) : 0;
    *state = !status.signaled ? SYNCOBJ_POINT_PENDING : err ? SYNCOBJ_POINT_FAILED : SYNCOBJ_POINT_SIGNALED;
    if (error)
        *error = err;
    return 0;
}

int DrmBackend::point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error)
{
    Handles hs(dev_);
    if (int r = hs.import(&fd, 1))
        return r;
    uint64_t head = 0, done = 0;
    uint32_t h = hs[0];
    if (error)
        *error = 0;
    if (point == 0)
        return binary_point_state(h, state, error);
    if (dev_.query(&h, &head, 1, SYNCOBJ_QUERY_LAST_SUBMITTED) || dev_.query(&h, &done, 1, 0))
        return ioctl_fail("DRM_IOCTL_SYNCOBJ_QUERY");
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
