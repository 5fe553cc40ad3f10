// What kind of buffer an fd is, read from /proc/self/fdinfo (a dma-buf's `exp_name` and `size`:
// the supported interface since the dma-buf sysfs statistics were removed), and how the CPU
// should access it.
#pragma once

#include "syncway/result.hpp"

#include <cstdint>
#include <string>

namespace syncway::heaps {

enum class FdKind {
    DmaBuf, // has an exporter
    Memfd,  // shmem that supports seals (memfd_create)
    Other,  // any other file
};

struct FdInfo {
    FdKind kind = FdKind::Other;
    uint64_t size = 0;       // the dma-buf's size, or the file's size
    std::string exporter;    // dma-buf `exp_name`: a heap's name, "udmabuf", a DRM driver...
    std::string buffer_name; // set with DMA_BUF_SET_NAME, if any
    int seals = 0;           // F_GET_SEALS for memfds
};

// EBADF for a closed fd; other errors name the file that could not be read.
Result<FdInfo> inspect_fd(int fd);

// How the CPU should read a buffer; decided from what exported it.
struct CpuAccessPlan {
    bool mappable = false;     // mmap() is expected to work
    bool cached = false;       // mapped reads are cheap (cached, system memory)
    bool needs_sync = false;   // DMA_BUF_IOCTL_SYNC brackets apply (dma-bufs)
    std::string reason;        // why, for logs
};

CpuAccessPlan plan_cpu_access(const FdInfo& info);

const char* to_string(FdKind kind);

} // namespace syncway::heaps
