// A kernel sw_sync timeline: a 32-bit counter whose fences (sync_files) signal when the counter
// reaches their value. The DRM backend's signalers are these (syncobj_submit), and the tests use
// them for fences that signal when the test says so.
//
// sw_sync lives in debugfs (<debugfs>/sync/sw_sync, CONFIG_SW_SYNC), normally root only, and its
// uapi is not exported to the installed headers: the structure and ioctl numbers below are the
// ones of drivers/dma-buf/sw_sync.c (identical in Linux 6.1 and 6.12). When the last fd of a
// timeline closes, the kernel signals every fence still pending on it with the error -ENOENT
// (sw_sync_debugfs_release()), which is how a signaler that dies is told from one that signals.
#pragma once

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace syncway::syncobj {

class SwSyncTimeline {
public:
    static constexpr const char* kPath = "/sys/kernel/debug/sync/sw_sync";
    // The dma_fence driver name of sw_sync's fences (SYNC_IOC_FILE_INFO reports it).
    static constexpr const char* kDriverName = "sw_sync";
    // The error sw_sync's fences carry when their timeline's last fd closed unsignaled.
    static constexpr int kOrphanedError = ENOENT;

    // A new timeline (counter 0). The error names the path and what is missing: the file (no
    // CONFIG_SW_SYNC or debugfs not mounted) or the permission (debugfs is root-only).
    static Result<SwSyncTimeline> open(const char* path = kPath)
    {
        UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
        if (fd)
            return SwSyncTimeline(std::move(fd));
        int e = errno;
        std::string why = std::string(path) + ": " + std::strerror(e);
        if (e == ENOENT)
            why += " (needs a kernel with CONFIG_SW_SYNC and debugfs mounted on /sys/kernel/debug)";
        else if (e == EACCES || e == EPERM)
            why += " (debugfs and sw_sync are normally root-only)";
        return make_error(e, why);
    }

    // A sync_file that signals when the counter reaches `value`.
    Result<UniqueFd> create_fence(uint32_t value, const char* name = "syncway")
    {
        CreateFence data{};
        data.value = value;
        std::snprintf(data.name, sizeof data.name, "%s", name);
        if (retry(fd_.get(), kCreateFence, &data) != 0)
            return make_error(errno, "SW_SYNC_IOC_CREATE_FENCE at " + std::to_string(value) + ": " +
                                         std::strerror(errno));
        return UniqueFd(data.fence);
    }

    Status advance(uint32_t by = 1)
    {
        if (int r = advance(fd_.get(), by))
            return make_error(-r, std::string("SW_SYNC_IOC_INC: ") + std::strerror(-r));
        return Ok{};
    }

    // SW_SYNC_IOC_INC on any timeline fd (a signaler): 0 or -errno. One ioctl.
    static int advance(int timeline_fd, uint32_t by)
    {
        return retry(timeline_fd, kInc, &by) == 0 ? 0 : -errno;
    }

    int fd() const noexcept { return fd_.get(); }
    // The timeline lives as long as some fd of it is open; this hands ours over.
    UniqueFd release() && { return std::move(fd_); }

private:
    struct CreateFence {
        uint32_t value;
        char name[32];
        int32_t fence;
    };
    static constexpr unsigned long kCreateFence = _IOWR('W', 0, CreateFence);
    static constexpr unsigned long kInc = _IOW('W', 1, uint32_t);

    static int retry(int fd, unsigned long request, void* arg)
    {
        int r;
        do
            r = ::ioctl(fd, request, arg);
        while (r == -1 && errno == EINTR);
        return r;
    }

    explicit SwSyncTimeline(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace syncway::syncobj
