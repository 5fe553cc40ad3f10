#include "syncway/heaps/cpu_access.hpp"

#include <linux/dma-buf.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace syncway::heaps {
namespace {

uint64_t sync_flags(Access access)
{
    switch (access) {
    case Access::Read: return DMA_BUF_SYNC_READ;
    case Access::Write: return DMA_BUF_SYNC_WRITE;
    case Access::ReadWrite: return DMA_BUF_SYNC_RW;
    }
    return DMA_BUF_SYNC_RW;
}

// EINTR/EAGAIN: the kernel asks to be called again (a signal, or an exporter that is busy).
int sync_ioctl(int fd, uint64_t flags)
{
    dma_buf_sync sync{};
    sync.flags = flags;
    int r;
    do {
        r = ::ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
    } while (r < 0 && (errno == EINTR || errno == EAGAIN));
    return r;
}

int64_t now_ms()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

} // namespace

Result<CpuAccess> CpuAccess::begin(int fd, Access access)
{
    if (sync_ioctl(fd, DMA_BUF_SYNC_START | sync_flags(access)) == 0)
        return CpuAccess(fd, access);
    int err = errno;
    // ENOTTY: not a dma-buf (a memfd, a file): coherent memory, no bracket needed.
    if (err == ENOTTY)
        return CpuAccess(-1, access);
    return make_error(err, "DMA_BUF_IOCTL_SYNC start on fd " + std::to_string(fd) + " failed: " + std::strerror(err));
}

CpuAccess::CpuAccess(CpuAccess&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), access_(other.access_)
{
}

CpuAccess& CpuAccess::operator=(CpuAccess&& other) noexcept
{
    if (this != &other) {
        (void)end();
        fd_ = std::exchange(other.fd_, -1);
        access_ = other.access_;
    }
    return *this;
}

CpuAccess::~CpuAccess() { (void)end(); }

Status CpuAccess::end()
{
    int fd = std::exchange(fd_, -1);
    if (fd < 0)
        return Ok{};
    if (sync_ioctl(fd, DMA_BUF_SYNC_END | sync_flags(access_)) == 0)
        return Ok{};
    int err = errno;
    return make_error(err, "DMA_BUF_IOCTL_SYNC end on fd " + std::to_string(fd) + " failed: " + std::strerror(err));
}

Result<bool> wait_for_fences(int fd, Access access, int timeout_ms)
{
    short events = access == Access::Read ? POLLIN : POLLOUT;
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        int left = -1;
        if (deadline >= 0) {
            int64_t remaining = deadline - now_ms();
            left = remaining > 0 ? static_cast<int>(remaining) : 0;
        }
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, left);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0)
            return make_error(errno, "poll on fd " + std::to_string(fd) + " failed: " + std::strerror(errno));
        if (r == 0)
            return false;
        if (p.revents & POLLNVAL)
            return make_error(EBADF, "fd " + std::to_string(fd) + " is not open");
        if (p.revents & POLLERR)
            return make_error(EIO, "poll reports an error on fd " + std::to_string(fd));
        if (p.revents & (events | POLLHUP))
            return true;
    }
}

} // namespace syncway::heaps
