#include "frame_counter.hpp"

#include "xdg-shell-client-protocol.h"

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <syncway/unique_fd.hpp>

namespace syncway::bench {

struct FrameCounterCallbacks {
    static void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version)
    {
        auto* self = static_cast<FrameCounter*>(data);
        std::string_view iface(interface);
        if (iface == wl_compositor_interface.name)
            self->compositor_ = static_cast<wl_compositor*>(wl_registry_bind(registry, name, &wl_compositor_interface, 4));
        else if (iface == wl_shm_interface.name)
            self->shm_ = static_cast<wl_shm*>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
        else if (iface == xdg_wm_base_interface.name) {
            self->wm_base_ = static_cast<xdg_wm_base*>(wl_registry_bind(registry, name, &xdg_wm_base_interface, 1));
            xdg_wm_base_add_listener(self->wm_base_, &wm_base_listener, self);
        }
    }
    static void global_remove(void*, wl_registry*, uint32_t) {}
    static void ping(void*, xdg_wm_base* base, uint32_t serial) { xdg_wm_base_pong(base, serial); }
    static void configure(void* data, xdg_surface* surface, uint32_t serial)
    {
        xdg_surface_ack_configure(surface, serial);
        static_cast<FrameCounter*>(data)->configured_ = true;
    }
    static void toplevel_configure(void*, xdg_toplevel*, int32_t, int32_t, wl_array*) {}
    static void toplevel_close(void*, xdg_toplevel*) {}
    static void release(void* data, wl_buffer* buffer)
    {
        auto* self = static_cast<FrameCounter*>(data);
        for (int i = 0; i < FrameCounter::buffer_count; ++i)
            if (self->buffers_[i] == buffer)
                self->busy_[i] = false;
    }
    static void done(void* data, wl_callback* callback, uint32_t)
    {
        auto* self = static_cast<FrameCounter*>(data);
        wl_callback_destroy(callback);
        self->frame_ = nullptr;
        ++self->frames_;
        self->request_frame();
    }

    static constexpr wl_registry_listener registry_listener = {global, global_remove};
    static constexpr xdg_wm_base_listener wm_base_listener = {ping};
    static constexpr xdg_surface_listener surface_listener = {configure};
    static constexpr xdg_toplevel_listener toplevel_listener = {toplevel_configure, toplevel_close};
    static constexpr wl_callback_listener frame_listener = {done};
    static constexpr wl_buffer_listener buffer_listener = {release};
};

FrameCounter::~FrameCounter()
{
    if (!display_)
        return;
    if (frame_)
        wl_callback_destroy(frame_);
    for (wl_buffer* buffer : buffers_)
        if (buffer)
            wl_buffer_destroy(buffer);
    if (pixels_)
        munmap(pixels_, pixels_size_);
    if (toplevel_)
        xdg_toplevel_destroy(toplevel_);
    if (xdg_surface_)
        xdg_surface_destroy(xdg_surface_);
    if (surface_)
        wl_surface_destroy(surface_);
    if (wm_base_)
        xdg_wm_base_destroy(wm_base_);
    if (shm_)
        wl_shm_destroy(shm_);
    if (compositor_)
        wl_compositor_destroy(compositor_);
    if (registry_)
        wl_registry_destroy(registry_);
    wl_display_disconnect(display_);
}

void FrameCounter::request_frame()
{
    if (animate_) {
        for (int i = 0; i < buffer_count; ++i) {
            if (busy_[i])
                continue;
            uint32_t* frame = pixels_ + i * 64 * 64;
            std::fill(frame, frame + 64 * 64, 0xff000000u | uint32_t(frames_ * 2654435761u));
            wl_surface_attach(surface_, buffers_[i], 0, 0);
            wl_surface_damage(surface_, 0, 0, 64, 64);
            busy_[i] = true;
            break;
        }
    }
    frame_ = wl_surface_frame(surface_);
    wl_callback_add_listener(frame_, &FrameCounterCallbacks::frame_listener, this);
    wl_surface_commit(surface_);
}

bool FrameCounter::dispatch_for(std::chrono::milliseconds timeout)
{
    // One poll for events (at most timeout), then dispatch whatever arrived.
    while (wl_display_prepare_read(display_) != 0)
        if (wl_display_dispatch_pending(display_) < 0)
            return false;
    if (wl_display_flush(display_) < 0 && errno != EAGAIN) {
        wl_display_cancel_read(display_);
        return false;
    }
    pollfd p{wl_display_get_fd(display_), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout.count(), 0))) > 0) {
        if (wl_display_read_events(display_) < 0)
            return false;
    } else {
        wl_display_cancel_read(display_);
    }
    return wl_display_dispatch_pending(display_) >= 0;
}

bool FrameCounter::map_window(const std::string& socket_path, std::chrono::milliseconds timeout, std::string* error)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto fail = [&](const char* what) {
        *error = what;
        return false;
    };
    display_ = wl_display_connect(socket_path.c_str());
    if (!display_)
        return fail("cannot connect");
    registry_ = wl_display_get_registry(display_);
    wl_registry_add_listener(registry_, &FrameCounterCallbacks::registry_listener, this);
    if (wl_display_roundtrip(display_) < 0 || !compositor_ || !shm_ || !wm_base_)
        return fail("missing wl_compositor, wl_shm or xdg_wm_base");

    surface_ = wl_compositor_create_surface(compositor_);
    xdg_surface_ = xdg_wm_base_get_xdg_surface(wm_base_, surface_);
    xdg_surface_add_listener(xdg_surface_, &FrameCounterCallbacks::surface_listener, this);
    toplevel_ = xdg_surface_get_toplevel(xdg_surface_);
    xdg_toplevel_add_listener(toplevel_, &FrameCounterCallbacks::toplevel_listener, this);
    xdg_toplevel_set_title(toplevel_, "syncway frame counter");
    wl_surface_commit(surface_);
    while (!configured_) {
        if (std::chrono::steady_clock::now() > deadline || wl_display_roundtrip(display_) < 0)
            return fail("no xdg_surface.configure");
    }

    constexpr int size = 64, stride = size * 4, frame_bytes = stride * size;
    UniqueFd fd(memfd_create("frame-counter", MFD_CLOEXEC));
    if (!fd || ftruncate(fd.get(), frame_bytes * buffer_count) != 0)
        return fail("memfd");
    void* map = mmap(nullptr, frame_bytes * buffer_count, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (map == MAP_FAILED)
        return fail("mmap");
    pixels_ = static_cast<uint32_t*>(map);
    pixels_size_ = frame_bytes * buffer_count;
    std::fill(pixels_, pixels_ + pixels_size_ / 4, 0xff808080u);
    wl_shm_pool* pool = wl_shm_create_pool(shm_, fd.get(), frame_bytes * buffer_count);
    for (int i = 0; i < buffer_count; ++i) {
        buffers_[i] = wl_shm_pool_create_buffer(pool, i * frame_bytes, size, size, stride, WL_SHM_FORMAT_XRGB8888);
        wl_buffer_add_listener(buffers_[i], &FrameCounterCallbacks::buffer_listener, this);
    }
    wl_shm_pool_destroy(pool);
    wl_surface_attach(surface_, buffers_[0], 0, 0);
    wl_surface_damage(surface_, 0, 0, size, size);
    busy_[0] = true;
    request_frame();
    while (frames_ == 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return fail("no frame callback");
        if (!dispatch_for(left))
            return fail("connection lost");
    }
    return true;
}

uint64_t FrameCounter::count_frames(std::chrono::milliseconds duration)
{
    uint64_t start = frames_;
    auto deadline = std::chrono::steady_clock::now() + duration;
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !dispatch_for(left))
            break;
    }
    return frames_ - start;
}

} // namespace syncway::bench
