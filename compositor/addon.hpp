// An object of ours attached to a wlroots object (a wlr_surface, a wlr_buffer) through its addon
// set: found again from that object by a key, and told when wlroots destroys the object.
//
// Derive as `class X : public Addon<X>`, give X `static constexpr const char* kAddonName` and a
// member `void addon_destroyed()`, which wlroots calls when its object goes (X is detached by
// then and usually ends itself there). An X that ends first is detached by ~Addon.
#pragma once

#include "embedded_hook.hpp"
#include "wlr.hpp"

namespace syncway {

template <typename Self> class Addon {
public:
    static Self* find(wlr_addon_set& set, const void* key)
    {
        wlr_addon* addon = wlr_addon_find(&set, key, interface());
        return addon ? Hook::owner_of(addon) : nullptr;
    }

protected:
    Addon(wlr_addon_set& set, const void* key)
    {
        hook_.owner = static_cast<Self*>(this);
        wlr_addon_init(&hook_.c, &set, key, interface());
    }
    // wlr_addon_finish is idempotent (it re-initialises the link), so this is safe after
    // wlroots has finished the set.
    ~Addon() { wlr_addon_finish(&hook_.c); }
    Addon(const Addon&) = delete;
    Addon& operator=(const Addon&) = delete;

private:
    using Hook = EmbeddedHook<wlr_addon, Self>;
    static void destroyed(wlr_addon* addon) { Hook::owner_of(addon)->addon_destroyed(); }
    // A function-local static: Self is complete by the time this is first called.
    static const wlr_addon_interface* interface()
    {
        static const wlr_addon_interface impl{Self::kAddonName, &destroyed};
        return &impl;
    }

    Hook hook_;
};

} // namespace syncway
