// The process's file descriptor limit (RLIMIT_NOFILE). A compositor holds fds for its clients
// (their timelines, waits, dma-bufs, connections); the common soft limit of 1024 is far below
// what the hard limit allows, so syncway raises it at start.
#pragma once

#include <syncway/result.hpp>

#include <cstdint>

namespace syncway {

struct FdLimit {
    uint64_t soft_before = 0;
    uint64_t soft = 0;  // now
    uint64_t hard = 0;
};

// Raises the soft limit to the hard limit (no privilege needed); the limits it found and left.
Result<FdLimit> raise_fd_limit();
// The soft limit now.
uint64_t current_fd_limit();

} // namespace syncway
