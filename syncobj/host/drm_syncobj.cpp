#include "drm_syncobj.hpp"

#include "../kernel/sync_file_status.hpp"

#include <xf86drm.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway::syncobj {

namespace {

class DrmFenceSnapshot final : public KernelFenceSnapshot {
public:
    DrmFenceSnapshot(const DrmSyncobjDevice& dev, uint32_t binary) noexcept : dev_(dev), binary_(binary) {}
    ~DrmFenceSnapshot() override { dev_.destroy(binary_); }
    int status(SyncFileStatus& out) const override { return dev_.fence_status(binary_, out); }

private:
    const DrmSyncobjDevice& dev_;
    uint32_t binary_;
};

// A wait the waiter thread writes; its ticket goes first (cancels), then the eventfd closes.
class ThreadPointWait final : public PointWait::Impl {
public:
    ThreadPointWait(UniqueFd efd, KernelWaitThread::Ticket ticket) noexcept
        : PointWait::Impl(std::move(efd)), ticket_(std::move(ticket)) {}

private:
    KernelWaitThread::Ticket ticket_;
};

} // namespace

Result<std::unique_ptr<DrmSyncobj>> DrmSyncobj::import(const DrmSyncobjDevice& dev, KernelWaitThread* waits,
                                                       int syncobj_fd)
{
    uint32_t handle = 0;
    if (int r = dev.fd_to_handle(syncobj_fd, handle))
        return make_error(EINVAL, "kernel syncobj fd rejected by " + dev.path() + ": " + strerror(-r));
    auto owned = std::make_shared<Handle>(dev, handle);
    return std::unique_ptr<DrmSyncobj>(new DrmSyncobj(std::move(owned), waits));
}

int DrmSyncobj::query(uint64_t& point, bool last_submitted) const
{
    uint32_t h = handle_->handle;
    return dev().query(&h, &point, 1, last_submitted ? DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED : 0);
}

int DrmSyncobj::signal(uint64_t point) const
{
    uint32_t h = handle_->handle;
    return dev().signal(&h, &point, 1);
}

int DrmSyncobj::snapshot(uint64_t point, std::unique_ptr<KernelFenceSnapshot>& out) const
{
    uint32_t binary = 0;
    if (int r = dev().snapshot(handle_->handle, point, binary))
        return r;
    out = std::make_unique<DrmFenceSnapshot>(dev(), binary);
    return 0;
}

Result<std::unique_ptr<PointWait::Impl>> DrmSyncobj::wait(uint64_t point) const
{
    auto efd = make_wait_eventfd();
    if (!efd)
        return efd.error();
    if (!waits_) {
        int fd = efd->get();
        if (int r = dev().eventfd(handle_->handle, point, fd, 0))
            return make_error(-r, std::string("kernel SYNCOBJ_EVENTFD failed: ") + strerror(-r));
        return std::make_unique<PointWait::Impl>(std::move(efd.value()));
    }
    auto ticket = waits_->add(handle_, {handle_->handle, point}, efd->get());
    if (!ticket)
        return ticket.error();
    return std::unique_ptr<PointWait::Impl>(
        std::make_unique<ThreadPointWait>(std::move(efd.value()), std::move(ticket.value())));
}

} // namespace syncway::syncobj
