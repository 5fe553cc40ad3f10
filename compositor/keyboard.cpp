#include "keyboard.hpp"

#include "seat.hpp"

namespace syncway {
namespace {
const wlr_input_device_impl default_device_impl = {.destroy = [](wlr_input_device*) {}};
const wlr_keyboard_impl default_keyboard_impl = {.destroy = [](wlr_keyboard*) {}, .led_update = nullptr};
} // namespace

Keyboard::Keyboard(Seat& seat, wlr_input_device* device) : seat_(seat), device_(device)
{
    wlr_keyboard* keyboard = device->keyboard;
    wlr_keyboard_set_repeat_info(keyboard, 25, 600);
    key_.connect(&keyboard->events.key, [this](void* data) {
        auto* event = static_cast<wlr_event_keyboard_key*>(data);
        wlr_seat* seat = seat_.wlr();
        wlr_seat_set_keyboard(seat, device_);
        wlr_seat_keyboard_notify_key(seat, event->time_msec, event->keycode, event->state);
    });
    modifiers_.connect(&keyboard->events.modifiers, [this](void*) {
        wlr_seat_set_keyboard(seat_.wlr(), device_);
        wlr_seat_keyboard_notify_modifiers(seat_.wlr(), &device_->keyboard->modifiers);
    });
    destroy_.connect(&device->events.destroy, [this](void*) { seat_.remove_keyboard(this); });
}

DefaultKeyboard::DefaultKeyboard(xkb_keymap* keymap)
{
    wlr_input_device_init(&device_, WLR_INPUT_DEVICE_KEYBOARD, &default_device_impl,
                          "syncway default keyboard", 0, 0);
    device_.keyboard = &keyboard_;
    wlr_keyboard_init(&keyboard_, &default_keyboard_impl);
    wlr_keyboard_set_keymap(&keyboard_, keymap);
    wlr_keyboard_set_repeat_info(&keyboard_, 25, 600);
}

DefaultKeyboard::~DefaultKeyboard() { wlr_input_device_destroy(&device_); }

} // namespace syncway
