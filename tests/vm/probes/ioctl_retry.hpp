// ioctl() retried on EINTR/EAGAIN, as every DRM and dma-buf client must.
#pragma once

#include <sys/ioctl.h>

#include <cerrno>

namespace syncway::vm {

inline int ioctl_retry(int fd, unsigned long request, void* arg)
{
    int r;
    do
        r = ::ioctl(fd, request, arg);
    while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r;
}

} // namespace syncway::vm
