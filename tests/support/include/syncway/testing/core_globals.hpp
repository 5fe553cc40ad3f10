// The globals nearly every test client binds (wl_compositor, wl_subcompositor, wl_shm,
// xdg_wm_base), bound from a registry listener the client keeps for its own extra globals.
#pragma once

#include <wayland-client.h>

#include <cstdint>
#include <string_view>

struct xdg_wm_base;

namespace syncway::testing {

struct CoreGlobals {
    wl_compositor* compositor = nullptr;        // version 4
    wl_subcompositor* subcompositor = nullptr;  // version 1
    wl_shm* shm = nullptr;                      // version 1
    xdg_wm_base* wm_base = nullptr;             // version 1; pings are answered

    CoreGlobals() = default;
    CoreGlobals(const CoreGlobals&) = delete;
    CoreGlobals& operator=(const CoreGlobals&) = delete;
    // Destroys the client-side proxies (harmless on a dead connection).
    ~CoreGlobals();

    // From a wl_registry.global handler: binds `interface` when it is one of the above and
    // returns true; false leaves it to the caller.
    bool bind(wl_registry* registry, uint32_t name, std::string_view interface);
    // wl_compositor, wl_shm and xdg_wm_base are all there (wl_subcompositor is optional).
    bool complete() const { return compositor && shm && wm_base; }
};

} // namespace syncway::testing
