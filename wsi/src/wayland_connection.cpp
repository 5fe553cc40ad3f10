#include "wayland_connection.hpp"

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace syncway::wsi {

int64_t monotonic_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

WaylandConnection::WaylandConnection(wl_display* display) : display_(display) {}

void WaylandConnection::global(void* data, wl_registry* registry, uint32_t name, const char* interface,
                               uint32_t version)
{
    auto* self = static_cast<WaylandConnection*>(data);
    if (std::strcmp(interface, wl_shm_interface.name) == 0 && !self->shm_) {
        static const wl_shm_listener shm_listener = {.format = &WaylandConnection::shm_format};
        self->shm_ = static_cast<wl_shm*>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
        wl_shm_add_listener(self->shm_, &shm_listener, self);
    } else if (std::strcmp(interface, wl_output_interface.name) == 0 && self->outputs_.size() < 16) {
        // Their refresh rates pace FIFO (swapchain.cpp); a bounded number is enough for that.
        static const wl_output_listener output_listener = {
            .geometry = [](void*, wl_output*, int32_t, int32_t, int32_t, int32_t, int32_t, const char*, const char*,
                           int32_t) {},
            .mode = &WaylandConnection::output_mode,
            .done = [](void*, wl_output*) {},
            .scale = [](void*, wl_output*, int32_t) {},
        };
        auto* output = static_cast<wl_output*>(wl_registry_bind(registry, name, &wl_output_interface, 2));
        wl_output_add_listener(output, &output_listener, self);
        self->outputs_.push_back(output);
    } else if (std::strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 && !self->dmabuf_ && version >= 3) {
        // Version 3 lists (format, modifier) pairs as events; version 4 moves them into
        // feedback objects, which say nothing more that the layer needs (LINEAR or not).
        static const zwp_linux_dmabuf_v1_listener dmabuf_listener = {
            .format = [](void*, zwp_linux_dmabuf_v1*, uint32_t) {},
            .modifier = &WaylandConnection::dmabuf_modifier,
        };
        self->dmabuf_ = static_cast<zwp_linux_dmabuf_v1*>(wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3));
        zwp_linux_dmabuf_v1_add_listener(self->dmabuf_, &dmabuf_listener, self);
    } else if (std::strcmp(interface, wp_linux_drm_syncobj_manager_v1_interface.name) == 0 && !self->syncobj_manager_) {
        self->syncobj_manager_ = static_cast<wp_linux_drm_syncobj_manager_v1*>(
            wl_registry_bind(registry, name, &wp_linux_drm_syncobj_manager_v1_interface, 1));
    }
}

void WaylandConnection::global_remove(void*, wl_registry*, uint32_t) {}

void WaylandConnection::output_mode(void* data, wl_output*, uint32_t flags, int32_t, int32_t, int32_t refresh)
{
    auto* self = static_cast<WaylandConnection*>(data);
    if ((flags & WL_OUTPUT_MODE_CURRENT) && refresh > self->max_refresh_mhz_)
        self->max_refresh_mhz_ = refresh;
}

int64_t WaylandConnection::refresh_ns() const
{
    const int32_t mhz = max_refresh_mhz_;
    return mhz > 1000 ? int64_t(1'000'000'000'000) / mhz : 16'666'667;
}

void WaylandConnection::shm_format(void* data, wl_shm*, uint32_t format)
{
    static_cast<WaylandConnection*>(data)->shm_formats_.push_back(format);
}

void WaylandConnection::dmabuf_modifier(void* data, zwp_linux_dmabuf_v1*, uint32_t format, uint32_t modifier_hi,
                                        uint32_t modifier_lo)
{
    // DRM_FORMAT_MOD_LINEAR is 0: rows one after another, which is how the device lays out a
    // LINEAR image and how a CPU mapping is read.
    auto* self = static_cast<WaylandConnection*>(data);
    if (modifier_hi == 0 && modifier_lo == 0 && self->dmabuf_linear_formats_.size() < 256)
        self->dmabuf_linear_formats_.push_back(format);
}

std::shared_ptr<WaylandConnection> WaylandConnection::open(wl_display* display, std::string* why_not)
{
    std::shared_ptr<WaylandConnection> self(new WaylandConnection(display));
    self->queue_ = wl_display_create_queue(display);
    self->display_wrapper_ = static_cast<wl_display*>(wl_proxy_create_wrapper(display));
    if (!self->queue_ || !self->display_wrapper_) {
        *why_not = "out of memory creating a Wayland event queue";
        return nullptr;
    }
    wl_proxy_set_queue(reinterpret_cast<wl_proxy*>(self->display_wrapper_), self->queue_);
    self->registry_ = wl_display_get_registry(self->display_wrapper_);
    static const wl_registry_listener listener = {.global = &WaylandConnection::global,
                                                  .global_remove = &WaylandConnection::global_remove};
    wl_registry_add_listener(self->registry_, &listener, self.get());
    // Two roundtrips: the globals, then the events of what was bound (wl_shm's formats,
    // linux-dmabuf's modifiers).
    for (int i = 0; i < 2; ++i) {
        if (wl_display_roundtrip_queue(display, self->queue_) < 0) {
            *why_not = std::string("the Wayland connection failed: ") + std::strerror(errno);
            return nullptr;
        }
    }
    if (!self->syncobj_manager_) {
        *why_not = "the compositor does not advertise wp_linux_drm_syncobj_manager_v1";
        return nullptr;
    }
    if (!self->shm_) {
        *why_not = "the compositor does not advertise wl_shm";
        return nullptr;
    }
    int r = syncobj_open(SYNCOBJ_BACKEND_AUTO, &self->timelines_);
    if (r < 0) {
        *why_not = std::string("no timeline backend opens (") + std::strerror(-r) + ": " + syncobj_last_error() + ")";
        self->timelines_ = nullptr;
        return nullptr;
    }
    return self;
}

WaylandConnection::~WaylandConnection()
{
    for (wl_output* output : outputs_)
        wl_output_destroy(output);
    if (syncobj_manager_)
        wp_linux_drm_syncobj_manager_v1_destroy(syncobj_manager_);
    if (dmabuf_)
        zwp_linux_dmabuf_v1_destroy(dmabuf_);
    if (shm_)
        wl_shm_destroy(shm_);
    if (registry_)
        wl_registry_destroy(registry_);
    if (display_wrapper_)
        wl_proxy_wrapper_destroy(display_wrapper_);
    if (queue_) {
        wl_display_flush(display_);
        wl_event_queue_destroy(queue_);
    }
    if (timelines_)
        syncobj_close(timelines_);
}

bool WaylandConnection::has_shm_format(uint32_t format) const
{
    return std::find(shm_formats_.begin(), shm_formats_.end(), format) != shm_formats_.end();
}

bool WaylandConnection::has_dmabuf_linear_format(uint32_t drm_format) const
{
    return std::find(dmabuf_linear_formats_.begin(), dmabuf_linear_formats_.end(), drm_format) !=
           dmabuf_linear_formats_.end();
}

bool WaylandConnection::flush()
{
    while (wl_display_flush(display_) < 0) {
        if (errno != EAGAIN)
            return false;
        pollfd pfd{wl_display_get_fd(display_), POLLOUT, 0};
        if (poll(&pfd, 1, 1000) <= 0)
            return false;
    }
    return true;
}

WaylandConnection::Wait WaylandConnection::dispatch_until(const std::function<bool()>& done, int64_t deadline_ns)
{
    auto dispatch_pending = [&] {
        std::lock_guard lock(dispatch_mutex_);
        return wl_display_dispatch_queue_pending(display_, queue_);
    };
    for (;;) {
        if (done())
            return Wait::Done;
        if (lost())
            return Wait::Lost;
        while (wl_display_prepare_read_queue(display_, queue_) != 0) {
            if (dispatch_pending() < 0)
                return Wait::Lost;
            if (done())
                return Wait::Done;
        }
        if (wl_display_flush(display_) < 0 && errno != EAGAIN) {
            wl_display_cancel_read(display_);
            return Wait::Lost;
        }
        int64_t remaining = deadline_ns - monotonic_ns();
        if (remaining <= 0) {
            wl_display_cancel_read(display_);
            return done() ? Wait::Done : Wait::TimedOut;
        }
        pollfd pfd{wl_display_get_fd(display_), POLLIN, 0};
        int n = poll(&pfd, 1, int(std::min<int64_t>(remaining / 1000000 + 1, 1000)));
        if (n > 0) {
            if (wl_display_read_events(display_) < 0)
                return Wait::Lost;
        } else {
            wl_display_cancel_read(display_);
            if (n < 0 && errno != EINTR)
                return Wait::Lost;
        }
        if (dispatch_pending() < 0)
            return Wait::Lost;
    }
}

bool WaylandConnection::claim_surface(wl_surface* surface)
{
    std::lock_guard lock(surfaces_mutex_);
    return claimed_surfaces_.insert(surface).second;
}

void WaylandConnection::release_surface(wl_surface* surface)
{
    std::lock_guard lock(surfaces_mutex_);
    claimed_surfaces_.erase(surface);
}

} // namespace syncway::wsi
