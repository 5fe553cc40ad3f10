// A minimal xdg toplevel that counts wl_surface.frame callbacks: the "presented frames" of an
// output as any compositor reports them to a client (sway 1.7 on headless never sends
// wp_presentation feedback, so frame callbacks are the common measure).
#pragma once

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <wayland-client.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace syncway::bench {

class FrameCounter {
public:
    FrameCounter() = default;
    ~FrameCounter();
    FrameCounter(const FrameCounter&) = delete;

    // Connects to socket_path (absolute), maps a 64x64 window and returns once its first
    // frame callback arrived; false (with *error) on failure or after timeout.
    bool map_window(const std::string& socket_path, std::chrono::milliseconds timeout, std::string* error);
    // Keeps requesting frame callbacks for duration; returns how many arrived.
    uint64_t count_frames(std::chrono::milliseconds duration);
    // From now on, draw a new 64x64 frame (full damage) on every frame callback, so the
    // counter itself keeps the compositor rendering: the workload when no other client runs.
    void set_animate(bool animate) { animate_ = animate; }

private:
    static constexpr int size = 64;
    static constexpr int buffer_count = 4;
    static void on_release(void* data, wl_buffer* buffer);
    static void on_frame(void* data, wl_callback* callback, uint32_t);
    void request_frame();

    // Declaration order is destruction order in reverse: proxies before the display.
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    std::unique_ptr<testing::CoreGlobals> globals_;
    std::unique_ptr<testing::Toplevel> toplevel_;
    std::optional<testing::ShmBuffers> buffers_;
    std::array<bool, buffer_count> busy_{};
    bool animate_ = false;
    wl_callback* frame_ = nullptr;
    uint64_t frames_ = 0;
};

} // namespace syncway::bench
