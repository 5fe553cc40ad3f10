#include "damage_frames.hpp"

namespace syncway {

DamageDrivenFrames::DamageDrivenFrames(wl_event_loop* loop, wlr_output* output) : loop_(loop), output_(output)
{
    commit_.connect(&output->events.commit, [this](void* data) {
        auto* event = static_cast<wlr_output_event_commit*>(data);
        if (!(event->committed & WLR_OUTPUT_STATE_BUFFER) || idle_)
            return;
        // From an idle callback: after the commit (and the present relayed for it) finished.
        idle_ = wl_event_loop_add_idle(
            loop_,
            [](void* d) {
                auto* self = static_cast<DamageDrivenFrames*>(d);
                self->idle_ = nullptr;  // idle sources fire once and free themselves
                wlr_output_send_frame(self->output_);
            },
            this);
    });
}

DamageDrivenFrames::~DamageDrivenFrames()
{
    if (idle_)
        wl_event_source_remove(idle_);
}

} // namespace syncway
