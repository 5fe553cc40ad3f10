#include "syncway/testing/core_globals.hpp"

#include "xdg-shell-client-protocol.h"

namespace syncway::testing {

namespace {

const xdg_wm_base_listener answer_pings = {
    .ping = [](void*, xdg_wm_base* base, uint32_t serial) { xdg_wm_base_pong(base, serial); },
};

template <typename T> void bind_once(T*& slot, wl_registry* registry, uint32_t name, const wl_interface* iface,
                                     uint32_t version)
{
    // A second advertisement of the same global (never sent by syncway) keeps the first.
    if (!slot)
        slot = static_cast<T*>(wl_registry_bind(registry, name, iface, version));
}

} // namespace

CoreGlobals::~CoreGlobals()
{
    if (wm_base)
        xdg_wm_base_destroy(wm_base);
    if (shm)
        wl_shm_destroy(shm);
    if (subcompositor)
        wl_subcompositor_destroy(subcompositor);
    if (compositor)
        wl_compositor_destroy(compositor);
}

bool CoreGlobals::bind(wl_registry* registry, uint32_t name, std::string_view interface)
{
    if (interface == wl_compositor_interface.name)
        bind_once(compositor, registry, name, &wl_compositor_interface, 4);
    else if (interface == wl_subcompositor_interface.name)
        bind_once(subcompositor, registry, name, &wl_subcompositor_interface, 1);
    else if (interface == wl_shm_interface.name)
        bind_once(shm, registry, name, &wl_shm_interface, 1);
    else if (interface == xdg_wm_base_interface.name) {
        if (wm_base)
            return true;
        bind_once(wm_base, registry, name, &xdg_wm_base_interface, 1);
        xdg_wm_base_add_listener(wm_base, &answer_pings, nullptr);
    } else
        return false;
    return true;
}

} // namespace syncway::testing
