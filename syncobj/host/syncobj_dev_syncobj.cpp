#include "syncobj_dev_syncobj.hpp"

#include "../kernel/sync_file_status.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway::syncobj {

namespace {

class SyncobjDevFenceSnapshot final : public KernelFenceSnapshot {
public:
    SyncobjDevFenceSnapshot(const SyncobjDevDevice& dev, UniqueFd binary) noexcept
        : dev_(dev), binary_(std::move(binary)) {}
    int status(SyncFileStatus& out) const override
    {
        int fd = -1;
        if (int r = dev_.export_sync_file(binary_.get(), 0, fd))
            return r;
        UniqueFd sync_file(fd);
        return sync_file_status(sync_file.get(), out);
    }

private:
    const SyncobjDevDevice& dev_;
    UniqueFd binary_;
};

} // namespace

int SyncobjDevSyncobj::query(uint64_t& point, bool last_submitted) const
{
    return dev_.query(&fd_, &point, 1, last_submitted ? 1u : 0u);
}

int SyncobjDevSyncobj::signal(uint64_t point) const { return dev_.signal(&fd_, &point, 1); }

int SyncobjDevSyncobj::snapshot(uint64_t point, std::unique_ptr<KernelFenceSnapshot>& out) const
{
    UniqueFd binary;
    if (int r = dev_.snapshot(fd_, point, binary))
        return r;
    out = std::make_unique<SyncobjDevFenceSnapshot>(dev_, std::move(binary));
    return 0;
}

Result<std::unique_ptr<PointWait::Impl>> SyncobjDevSyncobj::wait(uint64_t point) const
{
    auto efd = make_wait_eventfd();
    if (!efd)
        return efd.error();
    if (int r = dev_.eventfd(fd_, point, efd->get(), 0))
        return make_error(-r, std::string("kernel SYNCOBJ_EVENTFD failed: ") + strerror(-r));
    return std::make_unique<PointWait::Impl>(std::move(efd.value()));
}

} // namespace syncway::syncobj
