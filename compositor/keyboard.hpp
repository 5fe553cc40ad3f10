// Keyboards: real ones (libinput, nested) and virtual ones forward keys to the focused client;
// DefaultKeyboard is the seat's keyboard while there is no other, so that clients always get a
// wl_keyboard with a keymap (GTK refuses to start without one).
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

namespace syncway {

class Seat;

class Keyboard {
public:
    Keyboard(Seat& seat, wlr_input_device* device);
    Keyboard(const Keyboard&) = delete;
    wlr_input_device* device() const { return device_; }

private:
    Seat& seat_;
    wlr_input_device* device_;
    Listener key_;
    Listener modifiers_;
    Listener destroy_;
};

class DefaultKeyboard {
public:
    // keymap: referenced, not consumed.
    explicit DefaultKeyboard(xkb_keymap* keymap);
    ~DefaultKeyboard();
    DefaultKeyboard(const DefaultKeyboard&) = delete;
    wlr_input_device* device() { return &device_; }

private:
    // wlroots frees these through the impls' destroy hooks, which do nothing: we own the memory.
    wlr_input_device device_{};
    wlr_keyboard keyboard_{};
};

} // namespace syncway
