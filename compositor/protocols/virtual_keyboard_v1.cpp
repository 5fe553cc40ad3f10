#include "virtual_keyboard_v1.hpp"

#include "../server.hpp"

#include <cstdlib>

// Only wlroots 0.15 leaves the keyboard to us; a release that frees it would see it freed twice.
static_assert(WLR_VERSION_MAJOR == 0 && WLR_VERSION_MINOR == 15,
              "VirtualKeyboardV1 frees wlroots 0.15's leaked virtual wlr_keyboard: check that this wlroots still leaks it");

namespace syncway {

VirtualKeyboardV1::VirtualKeyboardV1(Server& server) : server_(server)
{
    wlr_virtual_keyboard_manager_v1* manager = wlr_virtual_keyboard_manager_v1_create(server.display.get());
    new_keyboard_.connect(&manager->events.new_virtual_keyboard, [this](void* data) {
        auto* keyboard = static_cast<wlr_virtual_keyboard_v1*>(data);
        Tracked& tracked = keyboards_.emplace_back();
        tracked.keyboard = keyboard->input_device.keyboard;
        // The device's destroy signal comes first in its teardown, while wlroots still uses the
        // keyboard; the keyboard is freed from the event loop's next idle pass, after it.
        tracked.device_destroy.connect(&keyboard->input_device.events.destroy, [this, &tracked](void*) {
            tracked.device_destroy.disconnect();  // the device's memory goes with the keyboard
            tracked.gone = true;
            if (!idle_)
                idle_ = wl_event_loop_add_idle(server_.event_loop(), &VirtualKeyboardV1::free_gone, this);
        });
        server_.seat->add_device(&keyboard->input_device);
    });
}

void VirtualKeyboardV1::free_gone(void* data)
{
    auto* self = static_cast<VirtualKeyboardV1*>(data);
    self->idle_ = nullptr;  // an idle source removes itself once it has run
    self->keyboards_.remove_if([](Tracked& tracked) {
        if (tracked.gone)
            std::free(tracked.keyboard);
        return tracked.gone;
    });
}

VirtualKeyboardV1::~VirtualKeyboardV1()
{
    if (idle_)
        wl_event_source_remove(idle_);
    // Keyboards whose devices are gone but whose idle pass never came (the compositor is ending).
    for (Tracked& tracked : keyboards_)
        if (tracked.gone)
            std::free(tracked.keyboard);
}

} // namespace syncway
