// The pointer: wlr_cursor over the output layout, an xcursor theme, client cursor surfaces,
// pointer focus, and the hardware-cursor-or-software decision per output (logged once).
#pragma once

#include "cursor_plane.hpp"
#include "cursor_presentation.hpp"
#include "listener.hpp"
#include "wlr_ptr.hpp"

#include <memory>
#include <set>
#include <string>
#include <vector>

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
    // A client's wl_pointer.set_cursor (surface nullptr: the client hides the pointer).
    void set_client_image(wlr_surface* surface, int hotspot_x, int hotspot_y);
    void check_hardware_cursors();
    // Our own cursor-plane path for DRM outputs where wlroots fell back to software.
    void update_cursor_planes();
    void move_cursor_planes();
    // Hands the current image back to wlroots' software cursor on this output.
    void use_software_cursor(CursorPlane& plane);
    // The client cursor surface `output` shows: the one the pointer is on (else nullptr).
    wlr_surface* client_surface_on(wlr_output* output) const;

    Server& server_;
    Seat& seat_;
    CursorPtr cursor_;
    XcursorManagerPtr xcursor_;
    bool client_image_ = false;           // a client's wl_pointer.set_cursor surface is shown
    wlr_surface* client_surface_ = nullptr;  // that surface (nullptr: hidden, or destroyed)
    int client_hotspot_x_ = 0, client_hotspot_y_ = 0;  // surface-local, moved by attach offsets
    std::set<std::string> software_logged_;  // "output: reason" of software fallbacks logged
    std::set<std::string> reported_;      // outputs whose cursor mode we already logged
    std::set<std::string> plane_tried_;   // outputs we tried to give a CursorPlane
    std::vector<std::unique_ptr<CursorPlane>> planes_;
    CursorPresentation presentation_;
    Listener motion_;
    Listener motion_absolute_;
    Listener button_;
    Listener axis_;
    Listener frame_;
    Listener request_set_cursor_;
    Listener client_commit_;   // applied commits of client_surface_ (held ones wait)
    Listener client_destroy_;
    Listener outputs_changed_;
};

} // namespace syncway
