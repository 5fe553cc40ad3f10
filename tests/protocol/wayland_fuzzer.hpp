// A structure-aware fuzzer for the compositor's Wayland side: a client that binds every global
// it has an interface description for, builds a little scene (a toplevel with a wl_shm buffer,
// an imported timeline and its sync surface, linux-dmabuf params), then sends requests chosen
// at random from the interfaces of the objects it holds, with arguments generated from their
// signatures: integers near the edges, strings, arrays, objects of the right interface (mostly)
// or of another one, new objects, and fds of every kind the compositor may be handed (memfds,
// some sealed and some later truncated, pipes, eventfds, sockets, the service's timelines).
// Each session runs in a forked child (a client-side abort or leak stays there); a session ends
// when the compositor disconnects it or after its requests, with a bounded roundtrip: a
// compositor that stops answering is a finding.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace syncway::test {

struct FuzzTarget {
    std::string display_path;    // the compositor's socket, a full path
    std::string service_socket;  // its syncobj service (empty: no timelines)
};

struct FuzzStats {
    uint64_t requests = 0;      // sent (the fuzzer's executions)
    uint64_t sessions = 0;      // connections
    uint64_t disconnected = 0;  // sessions the compositor ended with a protocol error
    uint64_t unanswered = 0;    // sessions whose final roundtrip timed out (a hang)
    uint64_t failed = 0;        // sessions whose child died or could not connect
};

// Runs sessions until `deadline`, seeded with `seed` (session i uses seed + i).
FuzzStats fuzz_compositor(const FuzzTarget& target, uint64_t seed, std::chrono::steady_clock::time_point deadline);

} // namespace syncway::test
