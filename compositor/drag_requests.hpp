// wl_data_device.start_drag: a drag starts only from the pointer button press that began it
// (the press's serial, on the surface that has the pointer), and a refused request leaves
// nothing behind in the compositor.
//
// wlroots 0.15 allocates a wlr_drag (and its icon) for every start_drag before asking the
// compositor, and frees it only when a started drag's grab ends or when the drag's data source
// is destroyed. So a refused drag with a source is freed by destroying that source (the client
// hears wl_data_source.cancelled, which is what a refusal means). A refused drag without a
// source has no such way out: it is started with a keyboard grab alone and that grab is ended
// at once, which is the one path on which wlroots frees it, with the seat's drag state put back
// as it was. And while a drag is in progress, wlroots drops a new start_drag without asking
// anyone and without freeing it; just before such a request is dispatched the drag in progress
// is hidden from wlroots, so the request reaches us and is refused like any other.
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

namespace syncway {

class DragRequests {
public:
    DragRequests(wl_display* display, wlr_seat* seat);
    ~DragRequests();
    DragRequests(const DragRequests&) = delete;
    DragRequests& operator=(const DragRequests&) = delete;

private:
    void on_request(const wlr_seat_request_start_drag_event& event);
    void refuse(wlr_drag* drag);
    void before_dispatch(const wl_protocol_logger_message& message);
    void show_hidden_drag();

    wlr_seat* seat_;
    wl_event_loop* loop_;
    wl_protocol_logger* logger_ = nullptr;
    // The drag in progress while it is hidden from wlroots for one start_drag request.
    wlr_drag* hidden_drag_ = nullptr;
    // Puts a hidden drag back should the request not reach us after all (see before_dispatch).
    wl_event_source* show_idle_ = nullptr;
    Listener request_start_drag_;
};

} // namespace syncway
