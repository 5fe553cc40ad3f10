// The COMMAND of `syncway -- COMMAND ARGS...`: started with WAYLAND_DISPLAY pointing at us,
// reaped through the event loop (SIGCHLD via signalfd), its status becoming ours.
#pragma once

#include <syncway/result.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace syncway {

class ChildProcess {
public:
    // Starts argv[0] (looked up in PATH) with WAYLAND_DISPLAY=socket in its environment and
    // the default signal mask and dispositions (ours blocks SIGCHLD/SIGINT/SIGTERM).
    // `extra_env` ("NAME=VALUE") is added to the environment, replacing variables of the same
    // name.
    static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const std::string& socket,
                                      const std::vector<std::string>& extra_env = {});

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
