// A real syncway, started headless in its own runtime directory, ready for real clients.
#pragma once

#include "image.hpp"
#include "process.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncway::test {

// Bounds for waiting on the compositor and on clients: generous for the ASan build on a
// loaded 2-core machine, and every wait polls, so a passing test never sleeps them out.
constexpr auto startup_timeout = 20s;
constexpr auto client_timeout = 30s;

// What syncway shows where no window is (the scene's clear colour).
constexpr Rgb background{0, 0, 0};

class Compositor {
public:
    // extra_args go before any `--`; the socket is always "syncway-test". launcher: a command
    // that execs syncway with its arguments (e.g. prlimit with the fd limits to run under).
    explicit Compositor(std::vector<std::string> extra_args = {}, std::vector<std::string> command = {},
                        std::vector<std::string> launcher = {});
    ~Compositor();

    // Waits until the socket accepts connections (or the process died).
    bool wait_ready();
    const std::string& socket() const { return socket_; }
    const std::string& runtime_dir() const { return dir_.path(); }
    // WAYLAND_DISPLAY and XDG_RUNTIME_DIR for clients of this compositor.
    EnvChanges client_env() const;
    Process& process() { return *process_; }

    // grim -t ppm; nullopt (with the reason in *error) if it failed.
    std::optional<Image> screenshot(std::string* error = nullptr) const;
    // Polls screenshots until predicate(image) holds; returns the last screenshot taken.
    std::optional<Image> wait_for_screenshot(const std::function<bool(const Image&)>& predicate,
                                             std::chrono::milliseconds timeout = client_timeout) const;

private:
    TempDir dir_;
    std::string socket_ = "syncway-test";
    std::unique_ptr<Process> process_;
};

bool socket_accepts(const std::string& path);

} // namespace syncway::test
