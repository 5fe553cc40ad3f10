// vm-fence-probe's shared pieces: opening a backend and deadlines, and the commands of
// drm_signaler_probe.cpp (wait-before-signal on the DRM backend).
#pragma once

#include "probe.hpp"

#include <syncobj/syncobj.h>

#include <poll.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

namespace syncway::vm {

using Device = std::unique_ptr<syncobj_device, decltype(&syncobj_close)>;

inline Result<Device> open_backend(syncobj_backend backend)
{
    syncobj_device* dev = nullptr;
    int r = syncobj_open(backend, &dev);
    if (r != 0)
        return make_error(-r, std::string("syncobj_open(") + syncobj_backend_name(backend) +
                                  "): " + std::strerror(-r) + ": " + syncobj_last_error());
    return Device(dev, &syncobj_close);
}

// An absolute CLOCK_MONOTONIC deadline `ms` from now, as syncobj_wait takes it.
inline int64_t deadline_in(std::chrono::milliseconds ms)
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000ll + now.tv_nsec + std::chrono::nanoseconds(ms).count();
}

// True when `fd` polls readable within `timeout_ms`.
inline bool readable(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

// (6.12, root) syncobj_submit on the DRM backend: a point submitted in one process, waited
// for (WAIT and EVENTFD) in a second, signaled by a third holding the only signaler.
// host_kernel_probe.cpp
Status probe_host_kernel_points();
Status probe_drm_wait_before_signal();
// (6.12, root) a signaler process that exits unsignaled: the blocked waiter, WAIT_ALL beside a
// point that signaled, the eventfd and point_state all see SYNCOBJ_ERROR_SIGNALER_DIED.
Status probe_drm_signaler_died();
// (6.12) without access to sw_sync (uid 65534), submit fails with EOPNOTSUPP naming the path.
Status probe_drm_submit_without_sw_sync();

} // namespace syncway::vm
