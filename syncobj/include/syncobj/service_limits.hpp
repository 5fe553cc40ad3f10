// Limits of the userspace syncobj service, per client and in total: a plain struct, filled by
// syncobjd's --max-* options or by the host that embeds the service (HostOptions::limits).
// Every limit a request would pass fails it with an errno (ENOSPC, EMFILE or ENFILE) and a
// message naming the limit and its value; nothing of the refused request is kept.
#pragma once

#include <cstdint>

namespace syncway::syncobj {

struct ServiceLimits {
    // Connections open at once, and per client process (SO_PEERCRED pid): one process cannot
    // take every slot. A connection over either limit is logged and closed at once.
    uint32_t max_connections = 256;
    uint32_t max_connections_per_client = 32;
    // Timelines and signalers one connection refers to (memory only: ~48 bytes each).
    uint32_t max_handles_per_connection = 16384;
    // Pending waits of one connection: WAIT and EVENTFD requests, exported and imported sync
    // files that have not resolved. Each holds a service fd. Over it: ENOSPC.
    uint32_t max_waits_per_connection = 4096;
    // Service fds held for what one connection made and is still alive: timelines (one fd
    // each, for as long as any process holds the timeline), unsignaled signalers, pending
    // waits. Over it: EMFILE.
    uint32_t max_fds_per_connection = 4096;
    // Points pending on one timeline (nodes of its fence chain: unsignaled points, and
    // signaled ones behind an unsignaled one) plus fences joined to them (SUBMIT, TRANSFER,
    // IMPORT_SYNC_FILE, SIGNAL add them). Over it: ENOSPC.
    uint32_t max_pending_points_per_timeline = 1024;
    // Pending points one connection added, on any timelines, that have not resolved yet (the
    // same adds; each stays counted while the chain keeps it, even past the connection). Over
    // it: ENOSPC.
    uint32_t max_pending_points_per_connection = 16384;
    // Every fd the service holds for clients (connections included), whoever made it: the
    // service's fd budget, which keeps it (and the process embedding it) clear of
    // RLIMIT_NOFILE. 0: half the soft RLIMIT_NOFILE when the service starts. Over it: ENFILE
    // for requests, a closed connection for new connections.
    uint32_t max_fds = 0;
};

// The most fds a service with these limits holds: its budget plus its own few (epoll, the
// listening socket, a spare kept for refusing connections when out of fds, and the requests
// being handled: at most 4 received fds).
inline constexpr uint64_t kServiceOwnFds = 8;

} // namespace syncway::syncobj
