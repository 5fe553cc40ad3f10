#include "virtual_keyboard_v1.hpp"

#include "../server.hpp"

namespace syncway {

VirtualKeyboardV1::VirtualKeyboardV1(Server& server)
{
    wlr_virtual_keyboard_manager_v1* manager = wlr_virtual_keyboard_manager_v1_create(server.display.get());
    new_keyboard_.connect(&manager->events.new_virtual_keyboard, [&server](void* data) {
        auto* keyboard = static_cast<wlr_virtual_keyboard_v1*>(data);
        server.seat->add_device(&keyboard->input_device);
    });
}

} // namespace syncway
