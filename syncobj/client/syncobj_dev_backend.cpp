#include "syncobj_dev_backend.hpp"

#include "../service/fd_kind.hpp"
#include "kernel_fences.hpp"

#include <syncway/unique_fd.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace syncway::syncobj {

namespace {
// When the device refused an fd argument that is not a syncobj: 0 if `fd` is of kind `want`,
// else this API's error naming it (EBADF: not open; EINVAL: another kind).
int reject_unless(int fd, FdKind want, const char* what, const char* noun)
{
    FdInfo info = inspect_fd(fd);
    if (info.kind == want)
        return 0;
    return fail(info.kind == FdKind::Invalid ? EBADF : EINVAL,
                std::string(what) + ": " + describe_fd(fd, info) + " is not " + noun);
}
} // namespace

int SyncobjDevBackend::check(int r, const char* what, const int* fds, uint32_t count) const
{
    if (r == 0)
        return 0;
    if (r == -EBADF) {
        // The device answers EBADF for any fd that is not a syncobj; find which one it was.
        for (uint32_t i = 0; i < count; i++) {
            FdInfo info = inspect_fd(fds[i]);
            if (info.kind == FdKind::KernelSyncobj)
                continue;
            return fail(info.kind == FdKind::Invalid ? EBADF : EINVAL,
                        std::string(what) + ": " + describe_fd(fds[i], info) + " is not a kernel syncobj");
        }
    }
    return fail(-r, dev_.path() + ": " + what + " failed: " + strerror(-r));
}

int SyncobjDevBackend::create(uint32_t flags, int* fd)
{
    if (flags & ~SYNCOBJ_CREATE_SIGNALED)
        return fail(EINVAL, "unknown create flags " + std::to_string(flags & ~SYNCOBJ_CREATE_SIGNALED) +
                                " (only SYNCOBJ_CREATE_SIGNALED = 1)");
    return check(dev_.create(flags, *fd), "CREATE", nullptr, 0);
}

int SyncobjDevBackend::wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
                            uint32_t flags, uint32_t* first)
{
    // The device returns at once for count 0; this API (like DRM's WAIT) calls it invalid.
    if (count == 0)
        return fail(EINVAL, "count is 0");
    // Snapshots as binary syncobj fds from the device, closed when the call returns.
    class Snapshots final : public WaitSnapshots {
    public:
        Snapshots(const SyncobjDevDevice& dev, const int* fds, const uint64_t* points, uint32_t count)
            : dev_(dev), fds_(fds), points_(points), snaps_(count)
        {
        }
        bool take(uint32_t i) override { return dev_.snapshot(fds_[i], points_[i], snaps_[i]) == 0; }
        bool has(uint32_t i) const override { return bool(snaps_[i]); }
        int error(uint32_t i) const override { return dev_.fence_error(snaps_[i].get()); }

    private:
        const SyncobjDevDevice& dev_;
        const int* fds_;
        const uint64_t* points_;
        std::vector<UniqueFd> snaps_;
    } snaps(dev_, fds, points, count);
    return wait_reporting_fence_errors(snaps, fds, points, count, flags, first, [&](uint32_t* first_signaled) {
        return check(dev_.wait(fds, points, count, timeout_nsec, flags, first_signaled), "WAIT", fds, count);
    });
}

int SyncobjDevBackend::reset(const int* fds, uint32_t count)
{
    if (count == 0)
        return fail(EINVAL, "count is 0");
    return check(dev_.reset(fds, count), "RESET", fds, count);
}

int SyncobjDevBackend::signal(const int* fds, const uint64_t* points, uint32_t count)
{
    if (count == 0)
        return fail(EINVAL, "count is 0");
    return check(dev_.signal(fds, points, count), "SIGNAL", fds, count);
}

int SyncobjDevBackend::query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags)
{
    if (count == 0)
        return fail(EINVAL, "count is 0");
    return check(dev_.query(fds, points, count, flags), "QUERY", fds, count);
}

int SyncobjDevBackend::transfer(int dst, uint64_t dst_point, int src, uint64_t src_point, uint32_t flags)
{
    int fds[2] = {src, dst};
    return check(dev_.transfer(dst, dst_point, src, src_point, flags), "TRANSFER", fds, 2);
}

int SyncobjDevBackend::eventfd(int fd, uint64_t point, int event_fd, uint32_t flags)
{
    int r = dev_.eventfd(fd, point, event_fd, flags);
    if (r == -EINVAL || r == -EBADF)
        if (int e = reject_unless(event_fd, FdKind::Eventfd, "EVENTFD", "an eventfd"))
            return e;
    return check(r, "EVENTFD", &fd, 1);
}

int SyncobjDevBackend::export_sync_file(int fd, uint64_t point, int* sync_file)
{
    return check(dev_.export_sync_file(fd, point, *sync_file), "EXPORT_SYNC_FILE", &fd, 1);
}

int SyncobjDevBackend::import_sync_file(int fd, uint64_t point, int sync_file)
{
    int r = dev_.import_sync_file(fd, point, sync_file);
    if (r == -EINVAL || r == -EBADF)
        if (int e = reject_unless(sync_file, FdKind::KernelSyncFile, "IMPORT_SYNC_FILE", "a sync_file"))
            return e;
    return check(r, "IMPORT_SYNC_FILE", &fd, 1);
}

int SyncobjDevBackend::submit(int fd, uint64_t point, int* signaler)
{
    return sw_sync_submit(*this, "/dev/syncobj", fd, point, signaler);
}

int SyncobjDevBackend::signaler_signal(int signaler) { return sw_sync_signal("/dev/syncobj", signaler); }

int SyncobjDevBackend::point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error)
{
    uint64_t head = 0, done = 0;
    if (int r = check(dev_.query(&fd, &head, 1, SYNCOBJ_QUERY_LAST_SUBMITTED), "QUERY", &fd, 1))
        return r;
    if (int r = check(dev_.query(&fd, &done, 1, 0), "QUERY", &fd, 1))
        return r;
    if (error)
        *error = 0;
    *state = point > head ? SYNCOBJ_POINT_UNSUBMITTED : point <= done ? SYNCOBJ_POINT_SIGNALED : SYNCOBJ_POINT_PENDING;
    // Seen only while the failed point is the newest on its timeline (see wait()).
    UniqueFd snap;
    if (*state == SYNCOBJ_POINT_SIGNALED && dev_.snapshot(fd, point, snap) == 0)
        if (int err = dev_.fence_error(snap.get())) {
            *state = SYNCOBJ_POINT_FAILED;
            if (error)
                *error = err;
        }
    return 0;
}

} // namespace syncway::syncobj
