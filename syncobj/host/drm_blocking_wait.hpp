// KernelWaitThread's blocking wait on a DRM render node: DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT (Linux
// 5.2+) with WAIT_FOR_SUBMIT over the targets plus a timeline syncobj of our own, whose next
// point wake() signals.
#pragma once

#include "kernel_wait_thread.hpp"

#include "../kernel/drm_syncobj_device.hpp"

#include <atomic>

namespace syncway::syncobj {

class DrmBlockingWait final : public BlockingWaitSource {
public:
    // Creates the wake-up syncobj on `dev`, which must outlive this object.
    static Result<std::unique_ptr<DrmBlockingWait>> create(const DrmSyncobjDevice& dev);
    ~DrmBlockingWait() override;

    int wait_any(const std::vector<Target>& targets, size_t& first) override;
    int check(const Target& target) override;
    void wake() override;

private:
    DrmBlockingWait(const DrmSyncobjDevice& dev, uint32_t wake_handle) noexcept : dev_(dev), wake_handle_(wake_handle) {}
    const DrmSyncobjDevice& dev_;
    uint32_t wake_handle_;
    // Points of the wake-up timeline: the last one signaled by wake(), the last one the waiting
    // thread has seen (that thread only).
    std::atomic<uint64_t> wakes_{0};
    uint64_t seen_ = 0;
    std::vector<uint32_t> handles_; // reused between waits (the waiting thread only)
    std::vector<uint64_t> points_;
};

} // namespace syncway::syncobj
