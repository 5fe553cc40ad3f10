// A software fence timeline (drivers/dma-buf/sw_sync.c through debugfs; not in the uapi
// headers): fences that signal when the test says so, for implicit-sync tests on real
// dma-bufs (DMA_BUF_IOCTL_IMPORT_SYNC_FILE). Present in the VM tier's kernel.
#pragma once

#include "syncway/unique_fd.hpp"

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/types.h>
#include <sys/ioctl.h>

#include <cstdio>

namespace syncway::heaps::test {

class SwSyncTimeline {
public:
    static constexpr const char* path = "/sys/kernel/debug/sync/sw_sync";

    SwSyncTimeline() : timeline_(::open(path, O_RDWR | O_CLOEXEC)) {}
    bool valid() const { return timeline_.valid(); }

    // A sync_file that signals when the timeline reaches `value`; invalid on failure.
    UniqueFd create_fence(__u32 value)
    {
        CreateFence data{};
        data.value = value;
        std::snprintf(data.name, sizeof data.name, "heaps-test");
        if (::ioctl(timeline_.get(), create_fence_ioctl, &data) != 0)
            return UniqueFd();
        return UniqueFd(data.fence);
    }
    bool advance(__u32 by = 1) { return ::ioctl(timeline_.get(), inc_ioctl, &by) == 0; }

private:
    struct CreateFence {
        __u32 value;
        char name[32];
        __s32 fence;
    };
    static constexpr unsigned long create_fence_ioctl = _IOWR('W', 0, CreateFence);
    static constexpr unsigned long inc_ioctl = _IOW('W', 1, __u32);

    UniqueFd timeline_;
};

// Adds `fence` to the dma-buf's implicit fences as a writer; false when the kernel refuses
// (errno says why; ENOTTY before Linux 6.0).
inline bool attach_write_fence(int dmabuf, int fence)
{
    dma_buf_import_sync_file import{};
    import.flags = DMA_BUF_SYNC_WRITE;
    import.fd = fence;
    return ::ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &import) == 0;
}

} // namespace syncway::heaps::test
