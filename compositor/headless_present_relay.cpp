#include "headless_present_relay.hpp"

namespace syncway {

HeadlessPresentRelay::HeadlessPresentRelay(wl_event_loop* loop, wlr_output* output) : loop_(loop), output_(output)
{
    commit_.connect(&output->events.commit, [this](void* data) {
        auto* event = static_cast<wlr_output_event_commit*>(data);
        if (!(event->committed & WLR_OUTPUT_STATE_BUFFER))
            return;
        commit_seq_ = output_->commit_seq;
        if (event->when)
            when_ = *event->when;
        else
            clock_gettime(CLOCK_MONOTONIC, &when_);
        if (!idle_)
            idle_ = wl_event_loop_add_idle(loop_, &HeadlessPresentRelay::send, this);
    });
}

HeadlessPresentRelay::~HeadlessPresentRelay()
{
    if (idle_)
        wl_event_source_remove(idle_);
}

void HeadlessPresentRelay::send(void* data)
{
    auto* self = static_cast<HeadlessPresentRelay*>(data);
    self->idle_ = nullptr;  // idle sources fire once and free themselves
    wlr_output_event_present event{};
    event.commit_seq = self->commit_seq_;
    event.presented = true;
    event.when = &self->when_;
    event.refresh = self->output_->refresh > 0 ? static_cast<int>(1000000000000LL / self->output_->refresh) : 0;
    wlr_output_send_present(self->output_, &event);

}

} // namespace syncway
