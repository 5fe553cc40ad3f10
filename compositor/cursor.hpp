// The pointer: wlr_cursor over the output layout, an xcursor theme, client cursor surfaces,
// pointer focus, and the hardware-cursor-or-software decision per output (logged once).
#pragma once

#include "listener.hpp"
#include "wlr_ptr.hpp"

#include <set>
#include <string>

namespace syncway {

class Server;
class Seat;

class Cursor {
public:
    Cursor(Server& server, Seat& seat);
    ~Cursor();
    Cursor(const Cursor&) = delete;

    void attach(wlr_input_device* pointer);
    // Re-evaluates which surface is under the pointer (windows mapped/unmapped under it).
    void update_pointer_focus();
    // Keeps the image loaded for every output's scale; logs outputs without a cursor plane.
    void handle_outputs_changed();

    wlr_cursor* wlr() const { return cursor_.get(); }

private:
    void process_motion(uint32_t time_msec);
    void set_default_image();
    void check_hardware_cursors();

    Server& server_;
    Seat& seat_;
    CursorPtr cursor_;
    XcursorManagerPtr xcursor_;
    bool client_image_ = false;           // a client's wl_pointer.set_cursor surface is shown
    std::set<std::string> reported_;      // outputs whose cursor mode we already logged
    Listener motion_;
    Listener motion_absolute_;
    Listener button_;
    Listener axis_;
    Listener frame_;
    Listener request_set_cursor_;
    Listener outputs_changed_;
};

} // namespace syncway
