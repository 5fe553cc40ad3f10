// wl_seat "seat0": keyboard focus, the keyboards, the cursor, the clipboard, drag-and-drop.
#pragma once

#include "cursor.hpp"
#include "drag_requests.hpp"
#include "keyboard.hpp"
#include "listener.hpp"
#include "wlr_ptr.hpp"

#include <memory>
#include <vector>

namespace syncway {

class Server;

class Seat {
public:
    explicit Seat(Server& server);
    ~Seat();
    Seat(const Seat&) = delete;

    // Any input device: backends' and virtual ones (zwp_virtual_*).
    void add_device(wlr_input_device* device);
    void remove_keyboard(Keyboard* keyboard);

    // Keyboard focus to this surface (nullptr: nobody).
    void focus_keyboard(wlr_surface* surface);

    wlr_seat* wlr() const { return seat_.get(); }

    struct {
        wl_signal focus_requested;  // wlr_surface*: the user clicked it
    } events;
    Cursor& cursor() { return *cursor_; }

private:
    Server& server_;
    XkbContextPtr xkb_;
    XkbKeymapPtr keymap_;
    SeatPtr seat_;
    std::unique_ptr<DefaultKeyboard> default_keyboard_;
    std::vector<std::unique_ptr<Keyboard>> keyboards_;
    std::unique_ptr<Cursor> cursor_;
    std::unique_ptr<DragRequests> drag_requests_;
    Listener request_set_selection_;
    Listener request_set_primary_selection_;
};

} // namespace syncway
