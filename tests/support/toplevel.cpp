#include "syncway/testing/toplevel.hpp"

#include "xdg-shell-client-protocol.h"

#include <utility>

namespace syncway::testing {

void Toplevel::on_configure(void* data, xdg_surface* surface, uint32_t serial)
{
    xdg_surface_ack_configure(surface, serial);
    static_cast<Toplevel*>(data)->configured_ = true;
}

void Toplevel::on_toplevel_configure(void* data, xdg_toplevel*, int32_t width, int32_t height, wl_array*)
{
    auto* self = static_cast<Toplevel*>(data);
    self->width_ = width;
    self->height_ = height;
}

Toplevel::Toplevel(wl_compositor* compositor, xdg_wm_base* wm_base, const char* title)
{
    static const xdg_surface_listener surface_listener = {.configure = &Toplevel::on_configure};
    static const xdg_toplevel_listener toplevel_listener = {
        .configure = &Toplevel::on_toplevel_configure,
        .close = [](void*, xdg_toplevel*) {},
    };
    surface_ = wl_compositor_create_surface(compositor);
    xdg_surface_ = xdg_wm_base_get_xdg_surface(wm_base, surface_);
    xdg_surface_add_listener(xdg_surface_, &surface_listener, this);
    toplevel_ = xdg_surface_get_toplevel(xdg_surface_);
    xdg_toplevel_add_listener(toplevel_, &toplevel_listener, this);
    if (title)
        xdg_toplevel_set_title(toplevel_, title);
    wl_surface_commit(surface_);
}

void Toplevel::reset()
{
    if (toplevel_)
        xdg_toplevel_destroy(std::exchange(toplevel_, nullptr));
    if (xdg_surface_)
        xdg_surface_destroy(std::exchange(xdg_surface_, nullptr));
    if (surface_)
        wl_surface_destroy(std::exchange(surface_, nullptr));
}

} // namespace syncway::testing
