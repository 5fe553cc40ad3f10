#include "virtual_pointer_v1.hpp"

#include "../server.hpp"

namespace syncway {

VirtualPointerV1::VirtualPointerV1(Server& server)
{
    wlr_virtual_pointer_manager_v1* manager = wlr_virtual_pointer_manager_v1_create(server.display.get());
    new_pointer_.connect(&manager->events.new_virtual_pointer, [&server](void* data) {
        auto* event = static_cast<wlr_virtual_pointer_v1_new_pointer_event*>(data);
        wlr_input_device* device = &event->new_pointer->input_device;
        server.seat->add_device(device);
        // Absolute motion from this pointer maps onto the output the client asked for.
        if (event->suggested_output)
            wlr_cursor_map_input_to_output(server.seat->cursor().wlr(), device, event->suggested_output);
    });
}

} // namespace syncway
