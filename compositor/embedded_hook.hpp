// Finding a C++ object again from a C struct it lent to wlroots or libwayland (a wl_listener in
// a signal's list, a wlr_addon in an object's addon set). Those libraries hand back only the
// address of the C struct; wl_container_of computes the enclosing object with offsetof, which
// is only defined for standard-layout types, and our owners (with std::function, containers,
// virtual functions) are not. So the C struct sits first in a small standard-layout hook next
// to a pointer to its owner, and the owner is read back from there.
#pragma once

#include <type_traits>

namespace syncway {

template <typename C, typename Owner> struct EmbeddedHook {
    C c{};
    Owner* owner = nullptr;

    static Owner* owner_of(C* c) noexcept
    {
        // `c` is the first member of a standard-layout struct: the two addresses are one.
        static_assert(std::is_standard_layout_v<EmbeddedHook>, "the hook must be standard-layout");
        return reinterpret_cast<EmbeddedHook*>(c)->owner;
    }
};

} // namespace syncway
