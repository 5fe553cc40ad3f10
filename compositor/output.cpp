#include "output.hpp"

#include "server.hpp"

#include <ctime>

namespace syncway {
Output::Output(Server& server, wlr_output* output, std::optional<OutputSpec> spec)
    : server_(server), output_(output), spec_(spec)
{
    output_->data = this;
    frame_.connect(&output_->events.frame, [this](void*) { render_frame(); });
    destroy_.connect(&output_->events.destroy, [this](void*) { server_.remove_output(this); });
    if (wlr_output_is_headless(output_))
        present_relay_ = std::make_unique<HeadlessPresentRelay>(server_.event_loop(), output_);
}

Output::~Output() { output_->data = nullptr; }

bool Output::enable()
{
    if (!wlr_output_init_render(output_, server_.allocator.get(), server_.renderer.get())) {
        wlr_log(WLR_ERROR, "output %s: cannot render to it with this renderer/allocator", output_->name);
        return false;
    }
    wlr_output_enable(output_, true);
    if (!wl_list_empty(&output_->modes)) {
        wlr_output_mode* mode = wlr_output_preferred_mode(output_);
        wlr_output_set_mode(output_, mode);
    } else if (spec_) {
        wlr_output_set_custom_mode(output_, spec_->width, spec_->height, spec_->refresh_mhz);
    }
    if (!wlr_output_commit(output_)) {
        wlr_log(WLR_ERROR, "output %s: the backend refused to enable it", output_->name);
        return false;
    }
    wlr_log(WLR_INFO, "output %s: %dx%d@%.3f Hz", output_->name, output_->width, output_->height,
            output_->refresh / 1000.0);
    return true;
}

void Output::render_frame()
{
    wlr_scene_output* scene_output = wlr_scene_get_scene_output(server_.scene.get(), output_);
    if (!scene_output)
        return;
    if (!wlr_scene_output_commit(scene_output) && !logged_commit_failure_) {
        // A nested output whose window is hidden, or a DRM output mid-modeset: not fatal.
        wlr_log(WLR_DEBUG, "output %s: frame commit failed", output_->name);
        logged_commit_failure_ = true;
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    wlr_scene_output_send_frame_done(scene_output, &now);
}

} // namespace syncway
