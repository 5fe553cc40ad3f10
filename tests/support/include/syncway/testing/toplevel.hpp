// A wl_surface with the xdg_toplevel role: configures are acked as they come, and the size
// the compositor asked for is kept (0x0: the client chooses).
#pragma once

#include <wayland-client.h>

#include <cstdint>

struct xdg_wm_base;
struct xdg_surface;
struct xdg_toplevel;

namespace syncway::testing {

class Toplevel {
public:
    // Creates the surface and its role and commits once (no buffer), which asks the
    // compositor for the first configure; see configured().
    Toplevel(wl_compositor* compositor, xdg_wm_base* wm_base, const char* title);
    ~Toplevel() { reset(); }
    Toplevel(const Toplevel&) = delete;
    Toplevel& operator=(const Toplevel&) = delete;

    wl_surface* surface() const { return surface_; }
    ::xdg_surface* xdg() const { return xdg_surface_; }
    bool configured() const { return configured_; }
    int32_t width() const { return width_; }
    int32_t height() const { return height_; }

    // Destroys the role objects, then the surface (the order xdg-shell demands).
    void reset();

private:
    static void on_configure(void* data, xdg_surface* surface, uint32_t serial);
    static void on_toplevel_configure(void* data, xdg_toplevel*, int32_t width, int32_t height, wl_array*);

    wl_surface* surface_ = nullptr;
    xdg_surface* xdg_surface_ = nullptr;
    xdg_toplevel* toplevel_ = nullptr;
    bool configured_ = false;
    int32_t width_ = 0, height_ = 0;
};

} // namespace syncway::testing
