// The layer's handle on an application wl_surface while swapchains of the layer present to
// it: a proxy wrapper that puts the surface's new objects (frame callbacks) on the layer's
// event queue, and the surface's wp_linux_drm_syncobj_surface_v1 (a wl_surface may have only
// one, so a swapchain and the one it replaces share it).
#pragma once

#include "wayland_connection.hpp"

#include <memory>

struct wp_linux_drm_syncobj_surface_v1;

namespace syncway::wsi {

class SurfaceSync {
public:
    // Null if another VkSurfaceKHR of the same wl_surface already has one.
    static std::shared_ptr<SurfaceSync> create(std::shared_ptr<WaylandConnection> connection, wl_surface* surface);
    ~SurfaceSync();
    SurfaceSync(const SurfaceSync&) = delete;
    SurfaceSync& operator=(const SurfaceSync&) = delete;

    WaylandConnection& connection() const { return *connection_; }
    wl_surface* surface() const { return wrapper_; }
    wp_linux_drm_syncobj_surface_v1* sync() const { return sync_; }

private:
    SurfaceSync() = default;
    std::shared_ptr<WaylandConnection> connection_;
    wl_surface* app_surface_ = nullptr;
    wl_surface* wrapper_ = nullptr;
    wp_linux_drm_syncobj_surface_v1* sync_ = nullptr;
};

} // namespace syncway::wsi
