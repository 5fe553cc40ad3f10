// A client that takes a bit of everything a compositor keeps per client, for churn soaks and
// their benchmark: it connects, binds the globals, opens a toplevel, imports a timeline of the
// compositor's syncobj service, commits a wl_shm buffer with an acquire point nobody signals
// (a held commit and an armed wait), parks an fd in linux-dmabuf params, and makes a second
// surface show a wl_shm buffer. Then it reports ready and waits to be killed (SIGKILL: no
// goodbye to either the compositor or the service).
#pragma once

#include <string>

namespace syncway::testing {

struct ChurnTarget {
    std::string runtime_dir;     // the compositor's XDG_RUNTIME_DIR
    std::string socket;          // its Wayland socket name
    std::string service_socket;  // its syncobj service socket (SYNCWAY_SYNCOBJ_SOCKET)
    bool bare = false;           // only connect and bind (a baseline for what the rest costs)
};

// Runs in a forked child: never returns. Writes one byte to ready_fd once everything is in
// place (the compositor has seen it all: a roundtrip), then sleeps; exits 1 on any failure.
[[noreturn]] void churn_client_main(const ChurnTarget& target, int ready_fd);

// Forks a churn client, waits until it is ready (at most `timeout_ms`), SIGKILLs and reaps it.
// False if it failed or never got ready.
bool churn_cycle(const ChurnTarget& target, int timeout_ms);

} // namespace syncway::testing
