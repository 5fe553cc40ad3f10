#include "surface_sync.hpp"

#include "linux-drm-syncobj-v1-client-protocol.h"

namespace syncway::wsi {

std::shared_ptr<SurfaceSync> SurfaceSync::create(std::shared_ptr<WaylandConnection> connection, wl_surface* surface)
{
    if (!connection->claim_surface(surface))
        return nullptr;
    std::shared_ptr<SurfaceSync> self(new SurfaceSync);
    self->connection_ = std::move(connection);
    self->app_surface_ = surface;
    self->wrapper_ = static_cast<wl_surface*>(wl_proxy_create_wrapper(surface));
    wl_proxy_set_queue(reinterpret_cast<wl_proxy*>(self->wrapper_), self->connection_->queue());
    self->sync_ = wp_linux_drm_syncobj_manager_v1_get_surface(self->connection_->syncobj_manager(), surface);
    return self;
}

SurfaceSync::~SurfaceSync()
{
    // Commits already made keep their points; later ones (of another WSI) need none.
    if (sync_)
        wp_linux_drm_syncobj_surface_v1_destroy(sync_);
    if (wrapper_)
        wl_proxy_wrapper_destroy(wrapper_);
    connection_->flush();
    connection_->release_surface(app_surface_);
}

} // namespace syncway::wsi
