// The COMMAND of `syncway -- COMMAND ARGS...`: started with WAYLAND_DISPLAY pointing at us,
// reaped through the event loop (SIGCHLD via signalfd), its status becoming ours.
#pragma once

#include <syncway/result.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace syncway {

// What the child's environment gets from us, on top of ours.
struct ChildEnvironment {
    std::string wayland_display;      // WAYLAND_DISPLAY (an inherited WAYLAND_SOCKET is removed)
    std::string syncobj_socket;       // SYNCWAY_SYNCOBJ_SOCKET; empty: removed (we accept none)
    std::vector<std::string> extra;   // "NAME=VALUE", replacing variables of the same name
};

class ChildProcess {
public:
    // Starts argv[0] (looked up in PATH) with our environment changed as `env` says, and the
    // default signal mask and dispositions (ours blocks SIGCHLD/SIGINT/SIGTERM).
    static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const ChildEnvironment& env);

    ChildProcess() = default;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ~ChildProcess();  // terminates and reaps a child still running

    // Non-blocking: true once the child has exited (then exit_code() is valid).
    bool poll();
    bool exited() const { return status_.has_value(); }
    // Exit status, or 128+N if it died of signal N (what a shell would report).
    int exit_code() const;

    // SIGTERM, then SIGKILL after timeout_ms, then reap.
    void terminate(int timeout_ms = 3000);

    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

} // namespace syncway
