// A kernel sw_sync timeline (debugfs): fences at chosen values, signaled by advancing the
// counter. The ioctls live in drivers/dma-buf/sw_sync.c, not in a uapi header.
#pragma once

#include "ioctl_retry.hpp"
#include "probe.hpp"

#include <syncway/unique_fd.hpp>

#include <fcntl.h>

#include <cstdio>

namespace syncway::vm {

class SwSyncTimeline {
public:
    static constexpr const char* path = "/sys/kernel/debug/sync/sw_sync";

    static Result<SwSyncTimeline> open()
    {
        UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
        if (!fd)
            return sys_error(std::string("open ") + path + " (is debugfs mounted?)");
        return SwSyncTimeline(std::move(fd));
    }

    // A sync_file that signals when the counter reaches `value`.
    Result<UniqueFd> fence_at(uint32_t value)
    {
        CreateFence data{};
        data.value = value;
        std::snprintf(data.name, sizeof data.name, "syncway-vm-%u", value);
        if (ioctl_retry(fd_.get(), create_fence_ioctl, &data) != 0)
            return sys_error("SW_SYNC_IOC_CREATE_FENCE at " + std::to_string(value));
        return UniqueFd(data.fence);
    }

    int fd() const noexcept { return fd_.get(); }

    Status advance(uint32_t by)
    {
        if (ioctl_retry(fd_.get(), inc_ioctl, &by) != 0)
            return sys_error("SW_SYNC_IOC_INC");
        return Ok{};
    }

private:
    struct CreateFence {
        uint32_t value;
        char name[32];
        int32_t fence;
    };
    static constexpr unsigned long create_fence_ioctl = _IOWR('W', 0, CreateFence);
    static constexpr unsigned long inc_ioctl = _IOW('W', 1, uint32_t);

    explicit SwSyncTimeline(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace syncway::vm
