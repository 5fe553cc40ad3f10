// A syncway compositor for tests: pixman, headless (or `drm` where a test asks for real KMS),
// in a private XDG_RUNTIME_DIR, stopped (SIGTERM, then waited for) on destruction.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace syncway::heaps::test {

class CompositorProcess {
public:
    // `binary`: the syncway executable; `output`: "WxH"; `backend`: headless or drm (the drm
    // backend runs with libseat's builtin backend, as root, and without input devices).
    // Waits up to a minute for the socket (the VM tier emulates the CPU). Check error().
    // `extra_args` go after the ones above (e.g. {"--buffer-heap", "auto"}).
    CompositorProcess(const std::string& binary, const std::string& output, const std::string& backend = "headless",
                      const std::vector<std::string>& extra_args = {});
    ~CompositorProcess();
    CompositorProcess(const CompositorProcess&) = delete;
    CompositorProcess& operator=(const CompositorProcess&) = delete;

    const std::string& error() const { return error_; }
    const std::string& runtime_dir() const { return runtime_dir_; }
    const std::string& socket() const { return socket_; }
    pid_t pid() const { return pid_; }
    // Still running (not exited or crashed).
    bool alive();
    // Sets WAYLAND_DISPLAY and XDG_RUNTIME_DIR in this process so clients and grim find it.
    void export_environment() const;
    // What it wrote to stdout and stderr so far.
    std::string log() const;
    // Once it has exited (alive() false): its wait status (waitpid); -1 before.
    int wait_status() const { return wait_status_; }
    // Total CPU time (user + system) the compositor has used, in seconds.
    double cpu_seconds() const;

private:
    std::string runtime_dir_;
    std::string socket_ = "wayland-heaps-test";
    std::string log_path_;
    std::string error_;
    pid_t pid_ = -1;
    int wait_status_ = -1;
};

} // namespace syncway::heaps::test
