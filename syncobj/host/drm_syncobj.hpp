// A client's kernel syncobj imported into a DRM render node (a handle there).
#pragma once

#include "kernel_syncobj.hpp"
#include "kernel_wait_thread.hpp"

#include "../kernel/drm_syncobj_device.hpp"

namespace syncway::syncobj {

class DrmSyncobj final : public KernelSyncobj {
public:
    // `waits`: where points are waited for when the kernel has no SYNCOBJ_EVENTFD (null when it
    // has). The device and the thread must outlive this object and its waits.
    static Result<std::unique_ptr<DrmSyncobj>> import(const DrmSyncobjDevice& dev, KernelWaitThread* waits,
                                                     int syncobj_fd);

    int query(uint64_t& point, bool last_submitted) const override;
    int signal(uint64_t point) const override;
    int snapshot(uint64_t point, std::unique_ptr<KernelFenceSnapshot>& out) const override;
    Result<std::unique_ptr<PointWait::Impl>> wait(uint64_t point) const override;

private:
    // The handle, destroyed with the last of this object and the waiter thread's references
    // (the thread may still be blocked on it when the host lets go).
    struct Handle {
        Handle(const DrmSyncobjDevice& d, uint32_t h) noexcept : dev(d), handle(h) {}
        Handle(const Handle&) = delete;
        Handle& operator=(const Handle&) = delete;
        ~Handle() { dev.destroy(handle); }
        const DrmSyncobjDevice& dev;
        uint32_t handle;
    };
    DrmSyncobj(std::shared_ptr<Handle> handle, KernelWaitThread* waits) noexcept
        : handle_(std::move(handle)), waits_(waits) {}
    const DrmSyncobjDevice& dev() const noexcept { return handle_->dev; }

    std::shared_ptr<Handle> handle_;
    KernelWaitThread* waits_;
};

} // namespace syncway::syncobj
