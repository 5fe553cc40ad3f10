#include "seat.hpp"

#include "server.hpp"

#include <algorithm>

namespace syncway {

Seat::Seat(Server& server) : server_(server)
{
    wl_signal_init(&events.focus_requested);
    xkb_.reset(xkb_context_new(XKB_CONTEXT_NO_FLAGS));
    // NULL names: the system default (XKB_DEFAULT_* environment variables, else "us").
    keymap_.reset(xkb_keymap_new_from_names(xkb_.get(), nullptr, XKB_KEYMAP_COMPILE_NO_FLAGS));
    seat_.reset(wlr_seat_create(server_.display.get(), "seat0"));
    if (keymap_) {
        default_keyboard_ = std::make_unique<DefaultKeyboard>(keymap_.get());
        wlr_seat_set_keyboard(seat_.get(), default_keyboard_->device());
    } else {
        wlr_log(WLR_ERROR, "seat: no default keymap (xkeyboard-config missing?); clients get none");
    }
    // Pointer and keyboard even with no devices at all: toolkits insist on both.
    wlr_seat_set_capabilities(seat_.get(), WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
    cursor_ = std::make_unique<Cursor>(server_, *this);
    drag_requests_ = std::make_unique<DragRequests>(server_.display.get(), seat_.get());

    request_set_selection_.connect(&seat_->events.request_set_selection, [this](void* data) {
        auto* event = static_cast<wlr_seat_request_set_selection_event*>(data);
        wlr_seat_set_selection(seat_.get(), event->source, event->serial);
    });
    request_set_primary_selection_.connect(&seat_->events.request_set_primary_selection, [this](void* data) {
        auto* event = static_cast<wlr_seat_request_set_primary_selection_event*>(data);
        wlr_seat_set_primary_selection(seat_.get(), event->source, event->serial);
    });
}

Seat::~Seat()
{
    request_set_selection_.disconnect();
    request_set_primary_selection_.disconnect();
    drag_requests_.reset();
    cursor_.reset();
    keyboards_.clear();
    // The seat must forget the default keyboard before it is destroyed.
    wlr_seat_set_keyboard(seat_.get(), nullptr);
    default_keyboard_.reset();
    seat_.reset();
}

void Seat::add_device(wlr_input_device* device)
{
    switch (device->type) {
    case WLR_INPUT_DEVICE_KEYBOARD:
        // Virtual keyboards bring their own keymap; others get ours.
        if (!device->keyboard->keymap && keymap_)
            wlr_keyboard_set_keymap(device->keyboard, keymap_.get());
        keyboards_.push_back(std::make_unique<Keyboard>(*this, device));
        wlr_seat_set_keyboard(seat_.get(), device);
        break;
    case WLR_INPUT_DEVICE_POINTER:
        cursor_->attach(device);
        break;
    default:
        wlr_log(WLR_INFO, "seat: ignoring input device '%s' of type %d", device->name, device->type);
        break;
    }
}

void Seat::remove_keyboard(Keyboard* keyboard)
{
    // The seat may already have dropped it (it listens to the same destroy signal).
    wlr_keyboard* current = wlr_seat_get_keyboard(seat_.get());
    bool was_current = !current || current == keyboard->device()->keyboard;
    std::erase_if(keyboards_, [&](auto& k) { return k.get() == keyboard; });
    if (was_current) {
        wlr_input_device* next = !keyboards_.empty() ? keyboards_.back()->device()
                                 : default_keyboard_ ? default_keyboard_->device()
                                                     : nullptr;
        wlr_seat_set_keyboard(seat_.get(), next);
    }
}

void Seat::focus_keyboard(wlr_surface* surface)
{
    if (!surface) {
        wlr_seat_keyboard_notify_clear_focus(seat_.get());
        return;
    }
    wlr_keyboard* keyboard = wlr_seat_get_keyboard(seat_.get());
    if (keyboard)
        wlr_seat_keyboard_notify_enter(seat_.get(), surface, keyboard->keycodes, keyboard->num_keycodes,
                                       &keyboard->modifiers);
    else
        wlr_seat_keyboard_notify_enter(seat_.get(), surface, nullptr, 0, nullptr);
}

} // namespace syncway
