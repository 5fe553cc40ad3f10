// Per-connection limits of the userspace service (defaults sized for 10 000+ live timelines).
#pragma once

#include <cstdint>

namespace syncway::syncobj {

struct ServiceLimits {
    uint32_t max_connections = 256;
    uint32_t max_handles_per_connection = 65536; // timelines/signalers a connection refers to
    uint32_t max_waits_per_connection = 65536;   // pending waits, eventfds, sync files of one connection
};

} // namespace syncway::syncobj
