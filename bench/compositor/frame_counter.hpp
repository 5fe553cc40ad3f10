// A minimal xdg toplevel that counts wl_surface.frame callbacks: the "presented frames" of an
// output as any compositor reports them to a client (sway 1.7 on headless never sends
// wp_presentation feedback, so frame callbacks are the common measure).
#pragma once

#include <wayland-client.h>

#include <chrono>
#include <cstdint>
#include <string>

struct xdg_wm_base;
struct xdg_surface;
struct xdg_toplevel;

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
    bool dispatch_for(std::chrono::milliseconds timeout);
    void request_frame();

    friend struct FrameCounterCallbacks;
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    wl_compositor* compositor_ = nullptr;
    wl_shm* shm_ = nullptr;
    xdg_wm_base* wm_base_ = nullptr;
    wl_surface* surface_ = nullptr;
    xdg_surface* xdg_surface_ = nullptr;
    xdg_toplevel* toplevel_ = nullptr;
    static constexpr int buffer_count = 4;
    wl_buffer* buffers_[buffer_count] = {};
    bool busy_[buffer_count] = {};
    uint32_t* pixels_ = nullptr;  // buffer_count frames of 64x64 XRGB8888, mapped
    size_t pixels_size_ = 0;
    bool animate_ = false;
    wl_callback* frame_ = nullptr;
    bool configured_ = false;
    uint64_t frames_ = 0;
};

} // namespace syncway::bench
