// `--output WxH@0` on headless: the next frame may start as soon as the last one is committed,
// instead of at the backend's 60 Hz timer. A frame is then rendered exactly when something
// changed (wlroots schedules one on damage), and clients drawing on frame callbacks advance
// frame by frame, at the pace of the compositor rather than of a clock: a recorded test sees
// the same frames on a slow and a fast machine.
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

namespace syncway {

class DamageDrivenFrames {
public:
    DamageDrivenFrames(wl_event_loop* loop, wlr_output* output);
    ~DamageDrivenFrames();
    DamageDrivenFrames(const DamageDrivenFrames&) = delete;

private:
    wl_event_loop* loop_;
    wlr_output* output_;
    wl_event_source* idle_ = nullptr;
    Listener commit_;
};

} // namespace syncway
