// CPU access to a dma-buf: DMA_BUF_IOCTL_SYNC brackets (cache maintenance by the exporter) and
// waiting for the buffer's implicit fences with poll().
//
// SYNC_START itself also waits for the implicit fences (dma-buf.c, __dma_buf_begin_cpu_access),
// but blocking and without a timeout: an event loop must first wait with wait_for_fences() (or
// poll the fd itself) and begin the bracket only once the buffer is ready.
#pragma once

#include "syncway/result.hpp"

namespace syncway::heaps {

enum class Access { Read = 1, Write = 2, ReadWrite = 3 };

// START on construction, END on destruction (or end()). On an fd that is not a dma-buf (a
// memfd: coherent, nothing to do) the bracket is empty: bracketed() is false.
class CpuAccess {
public:
    static Result<CpuAccess> begin(int fd, Access access);

    CpuAccess(CpuAccess&& other) noexcept;
    CpuAccess& operator=(CpuAccess&& other) noexcept;
    CpuAccess(const CpuAccess&) = delete;
    CpuAccess& operator=(const CpuAccess&) = delete;
    ~CpuAccess();

    // Ends the bracket now, reporting failure (the destructor cannot).
    Status end();
    bool bracketed() const noexcept { return fd_ >= 0; }

private:
    CpuAccess(int fd, Access access) : fd_(fd), access_(access) {}
    int fd_ = -1; // borrowed, not owned
    Access access_ = Access::Read;
};

// Waits until the buffer's implicit fences allow `access`: readers wait for writers (POLLIN),
// writers for everyone (POLLOUT). timeout_ms < 0 waits forever. true: ready; false: timed out.
// A memfd is always ready.
Result<bool> wait_for_fences(int fd, Access access, int timeout_ms);

} // namespace syncway::heaps
