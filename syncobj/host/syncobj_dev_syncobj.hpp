// A client's kernel syncobj used through /dev/syncobj (operations on the fd itself; the
// device always has EVENTFD).
#pragma once

#include "kernel_syncobj.hpp"

#include "../kernel/syncobj_dev_device.hpp"

namespace syncway::syncobj {

class SyncobjDevSyncobj final : public KernelSyncobj {
public:
    // fd: the host's own duplicate, which the KernelTimeline keeps open as long as this object.
    SyncobjDevSyncobj(const SyncobjDevDevice& dev, int fd) noexcept : dev_(dev), fd_(fd) {}

    int query(uint64_t& point, bool last_submitted) const override;
    int signal(uint64_t point) const override;
    int snapshot(uint64_t point, std::unique_ptr<KernelFenceSnapshot>& out) const override;
    Result<std::unique_ptr<PointWait::Impl>> wait(uint64_t point) const override;

private:
    const SyncobjDevDevice& dev_;
    int fd_;
};

} // namespace syncway::syncobj
