// Requests on xdg-shell objects whose wl_surface is gone. When a client destroys a wl_surface
// before its xdg_surface/xdg_toplevel/xdg_popup, wlroots 0.15 tears its role state down and
// leaves those objects inert (no data behind them), but some of their request handlers still
// dereference that data: xdg_toplevel.set_maximized on such an object crashes the compositor
// (found by the protocol fuzzer). Just before such a request is dispatched, this guard swaps
// the inert object's handlers for ones that ignore every request but destroy, as the protocol
// says inert objects do.
#pragma once

#include "wlr.hpp"

namespace syncway {

class InertRoleGuard {
public:
    explicit InertRoleGuard(wl_display* display);
    ~InertRoleGuard();
    InertRoleGuard(const InertRoleGuard&) = delete;
    InertRoleGuard& operator=(const InertRoleGuard&) = delete;

private:
    wl_protocol_logger* logger_ = nullptr;
};

} // namespace syncway
