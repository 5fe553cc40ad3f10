#include "syncway/testing/virtual_pointer.hpp"

namespace syncway::testing {
namespace {

// Request opcodes, in the order the protocol declares them.
enum : uint32_t { manager_create_virtual_pointer = 0, manager_destroy = 1 };
enum : uint32_t { pointer_motion_absolute = 1, pointer_button = 2, pointer_frame = 4, pointer_destroy = 8 };

extern const wl_interface pointer_interface;

// Argument types for requests with no object arguments (at most five arguments).
const wl_interface* no_objects[5] = {};
const wl_interface* create_types[2] = {&wl_seat_interface, &pointer_interface};

const wl_message manager_requests[] = {
    {"create_virtual_pointer", "?on", create_types},
    {"destroy", "", no_objects},
};
const wl_message pointer_requests[] = {
    {"motion", "uff", no_objects},          {"motion_absolute", "uuuuu", no_objects},
    {"button", "uuu", no_objects},          {"axis", "uuf", no_objects},
    {"frame", "", no_objects},              {"axis_source", "u", no_objects},
    {"axis_stop", "uu", no_objects},        {"axis_discrete", "uufi", no_objects},
    {"destroy", "", no_objects},
};

const wl_interface pointer_interface = {"zwlr_virtual_pointer_v1", 1, 9, pointer_requests, 0, nullptr};

} // namespace

const wl_interface virtual_pointer_manager_interface = {"zwlr_virtual_pointer_manager_v1", 1, 2,
                                                        manager_requests, 0, nullptr};

wl_proxy* bind_virtual_pointer_manager(wl_registry* registry, uint32_t name)
{
    return static_cast<wl_proxy*>(wl_registry_bind(registry, name, &virtual_pointer_manager_interface, 1));
}

void destroy_virtual_pointer_manager(wl_proxy* manager)
{
    wl_proxy_marshal_flags(manager, manager_destroy, nullptr, 1, WL_MARSHAL_FLAG_DESTROY);
}

VirtualPointer::VirtualPointer(wl_proxy* manager, wl_seat* seat)
    : pointer_(wl_proxy_marshal_flags(manager, manager_create_virtual_pointer, &pointer_interface, 1, 0, seat,
                                      nullptr))
{
}

VirtualPointer::~VirtualPointer()
{
    if (pointer_)
        wl_proxy_marshal_flags(pointer_, pointer_destroy, nullptr, 1, WL_MARSHAL_FLAG_DESTROY);
}

void VirtualPointer::move_to(uint32_t x, uint32_t y, uint32_t width, uint32_t height)
{
    wl_proxy_marshal_flags(pointer_, pointer_motion_absolute, nullptr, 1, 0, ++time_ms_, x, y, width, height);
    wl_proxy_marshal_flags(pointer_, pointer_frame, nullptr, 1, 0);
}

void VirtualPointer::button(uint32_t button, bool pressed)
{
    wl_proxy_marshal_flags(pointer_, pointer_button, nullptr, 1, 0, ++time_ms_, button, pressed ? 1u : 0u);
    wl_proxy_marshal_flags(pointer_, pointer_frame, nullptr, 1, 0);
}

} // namespace syncway::testing
