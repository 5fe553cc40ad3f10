// A pointer driven by a test client through zwlr_virtual_pointer_manager_v1 (version 1), so a
// headless compositor gets real button presses and motion. wayland-protocols does not ship
// that protocol and Debian packages no copy of its XML: the two interfaces are described here
// by hand, with the requests this helper sends.
#pragma once

#include <wayland-client.h>

#include <cstdint>

namespace syncway::testing {

// The global's interface, for wl_registry.global handlers to compare names with.
extern const wl_interface virtual_pointer_manager_interface;

class VirtualPointer {
public:
    // manager: the bound zwlr_virtual_pointer_manager_v1 (bind_virtual_pointer_manager).
    VirtualPointer(wl_proxy* manager, wl_seat* seat);
    ~VirtualPointer();
    VirtualPointer(const VirtualPointer&) = delete;
    VirtualPointer& operator=(const VirtualPointer&) = delete;

    // Moves to (x, y) of a width x height layout (e.g. the one output), then a frame.
    void move_to(uint32_t x, uint32_t y, uint32_t width, uint32_t height);
    // Presses (true) or releases a button (linux/input-event-codes.h), then a frame.
    void button(uint32_t button, bool pressed);

private:
    wl_proxy* pointer_;
    uint32_t time_ms_ = 1;
};

wl_proxy* bind_virtual_pointer_manager(wl_registry* registry, uint32_t name);
void destroy_virtual_pointer_manager(wl_proxy* manager);

} // namespace syncway::testing
