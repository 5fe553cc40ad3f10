// wlroots 0.15's headless backend emits an output's `present` event from inside the commit,
// before the output's `commit` event. wp_presentation feedback only accepts a present that
// follows the commit it sampled, so on headless outputs clients never got `presented`.
// This relays each buffer commit as a present event once the commit has finished (idle
// callback, same timestamp), which the feedback then accepts.
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

namespace syncway {

class HeadlessPresentRelay {
public:
    HeadlessPresentRelay(wl_event_loop* loop, wlr_output* output);
    ~HeadlessPresentRelay();
    HeadlessPresentRelay(const HeadlessPresentRelay&) = delete;

private:
    static void send(void* data);

    wl_event_loop* loop_;
    wlr_output* output_;
    wl_event_source* idle_ = nullptr;
    uint32_t commit_seq_ = 0;
    timespec when_{};
    Listener commit_;
};

} // namespace syncway
