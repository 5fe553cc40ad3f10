#include "output.hpp"

#include "server.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace syncway {
Output::Output(Server& server, wlr_output* output, std::optional<OutputSpec> spec)
    : server_(server), output_(output), spec_(spec),
      // Only KMS: a headless or nested output hands the buffer it commits to screen capture
      // and the recorder, which read it as the composited frame.
      scene_render_(server.scene.get(), output, server.presentation,
                    server.direct_scanout == ScanoutMode::Auto && wlr_output_is_drm(output))
{
    output_->data = this;
    frame_.connect(&output_->events.frame, [this](void*) { render_frame(); });
    destroy_.connect(&output_->events.destroy, [this](void*) { server_.remove_output(this); });
    // The frame on screen is kept (front_) only where it is shown again: on KMS, to carry a
    // cursor-plane move without rendering (recommit_front_buffer). Elsewhere holding it would
    // only make the swapchain allocate a second full-size buffer for the next frame (8 MiB at
    // 1080p, headless), since the backend has already let go of it.
    if (wlr_output_is_drm(output_))
        track_front_buffer();
    if (wlr_output_is_headless(output_))
        present_relay_ = std::make_unique<HeadlessPresentRelay>(server_.event_loop(), output_);
    if (wlr_output_is_headless(output_) && spec_ && spec_->refresh_mhz == 0)
        damage_frames_ = std::make_unique<DamageDrivenFrames>(server_.event_loop(), output_);
}

void Output::track_front_buffer()
{
    // Only a buffer we rendered (the swapchain's back buffer) may be shown again: a client
    // buffer scanned out directly belongs to its client once replaced.
    precommit_.connect(&output_->events.precommit, [this](void*) {
        bool buffer = output_->pending.committed & WLR_OUTPUT_STATE_BUFFER;
        pending_rendered_ = buffer && output_->back_buffer;
        pending_front_ = buffer && front_ && output_->pending.buffer == front_.get();
    });
    commit_.connect(&output_->events.commit, [this](void* data) {
        auto* event = static_cast<wlr_output_event_commit*>(data);
        if (event->committed & WLR_OUTPUT_STATE_ENABLED && !output_->enabled)
            front_.reset();
        if (!(event->committed & WLR_OUTPUT_STATE_BUFFER))
            return;
        if (pending_front_)
            return;  // our own re-commit of the frame on screen
        front_.reset(pending_rendered_ && event->buffer ? wlr_buffer_lock(event->buffer) : nullptr);
    });
}

Output::~Output() { output_->data = nullptr; }

bool Output::on() const { return wlr_output_layout_get(server_.output_layout.get(), output_) != nullptr; }

Status Output::enable()
{
    wlr_output_enable(output_, true);
    std::string chosen;
    if (!wl_list_empty(&output_->modes)) {
        chosen = choose_listed_mode();
    } else if (spec_) {
        wlr_output_set_custom_mode(output_, spec_->width, spec_->height, spec_->refresh_mhz);
    }
    if (server_.output_scale != 1.0)
        wlr_output_set_scale(output_, float(server_.output_scale));

    // The framebuffers' source is tried with one buffer of the size the commit will ask for,
    // before wlroots is told the allocator: wlr_output_init_render cannot be undone, and a
    // source that fails must leave the output as it was, not half set up.
    int width = output_->width, height = output_->height;
    if (output_->pending.committed & WLR_OUTPUT_STATE_MODE) {
        bool fixed = output_->pending.mode_type == WLR_OUTPUT_STATE_MODE_FIXED && output_->pending.mode;
        width = fixed ? output_->pending.mode->width : output_->pending.custom_mode.width;
        height = fixed ? output_->pending.mode->height : output_->pending.custom_mode.height;
    }
    auto buffers = server_.output_buffers->choose(output_, width, height);
    if (!buffers) {
        wlr_output_rollback(output_);
        buffers_refused_ = true;
        return buffers.error();
    }
    if (!wlr_output_init_render(output_, buffers->allocator, server_.renderer.get())) {
        wlr_output_rollback(output_);
        buffers_refused_ = server_.output_buffers->explicit_heap();
        return make_error(EINVAL, "cannot render to it with this renderer and framebuffers from " +
                                      buffers->description + " (see the log above)");
    }
    wlr_log(WLR_INFO, "output %s: framebuffers from %s", output_->name, buffers->description.c_str());

    bool committed = wlr_output_commit(output_);
    if (!committed && spec_ && !wl_list_empty(&output_->modes)) {
        // A custom mode (or a listed one) the hardware will not take: the preferred mode.
        wlr_log(WLR_ERROR, "output %s: the backend refused %s; using the connector's preferred mode",
                output_->name, chosen.c_str());
        wlr_output_enable(output_, true);
        wlr_output_set_mode(output_, wlr_output_preferred_mode(output_));
        chosen = "its preferred mode";
        committed = wlr_output_commit(output_);
    }
    if (!committed)
        return make_error(EIO, "the backend refused to enable it");
    wlr_log(WLR_INFO, "output %s: %dx%d@%.3f Hz%s%s", output_->name, output_->width, output_->height,
            output_->refresh / 1000.0, chosen.empty() ? "" : ", ", chosen.c_str());
    return Ok{};
}

std::string Output::choose_listed_mode()
{
    wlr_output_mode* preferred = wlr_output_preferred_mode(output_);
    if (!spec_) {
        wlr_output_set_mode(output_, preferred);
        return "";
    }
    char asked[64];
    std::snprintf(asked, sizeof asked, "--output %dx%d@%g", spec_->width, spec_->height, spec_->refresh_mhz / 1000.0);
    wlr_output_mode* best = nullptr;
    wlr_output_mode* mode;
    wl_list_for_each(mode, &output_->modes, link) {
        if (mode->width != spec_->width || mode->height != spec_->height)
            continue;
        if (!best || std::abs(mode->refresh - spec_->refresh_mhz) < std::abs(best->refresh - spec_->refresh_mhz))
            best = mode;
    }
    if (best) {
        wlr_output_set_mode(output_, best);
        return std::string(asked) + ": the connector's mode of that size with the closest refresh";
    }
    // wlroots' DRM backend turns a custom mode into a CVT timing; the driver may refuse it.
    wlr_output_set_custom_mode(output_, spec_->width, spec_->height, spec_->refresh_mhz);
    return std::string(asked) + ": a custom mode (the connector lists no mode of that size)";
}

void Output::render_frame()
{
    wlr_scene_output* scene_output = wlr_scene_get_scene_output(server_.scene.get(), output_);
    if (!scene_output)
        return;
    wl_signal_emit(&server_.before_render, nullptr);
    // The scene samples client buffers (pixman reads wl_shm memory in place).
    ShmReadGuard::Reading reading(server_.shm_guard.get());
    if (recommit_front_buffer()) {
        // Nothing to draw: the frame only moves a cursor plane.
    } else if (!scene_render_.commit() && !logged_commit_failure_) {
        // A nested output whose window is hidden, or a DRM output mid-modeset: not fatal.
        wlr_log(WLR_DEBUG, "output %s: frame commit failed", output_->name);
        logged_commit_failure_ = true;
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    scene_render_.send_frame_done(now);
}

bool Output::recommit_front_buffer()
{
    // wlroots 0.15's DRM backend applies a cursor-plane move only with a page flip and asks
    // for a frame (needs_frame) to get one; the scene would answer with a freshly rendered,
    // identical primary buffer. When the scene has no damage, flipping the buffer already on
    // screen carries the cursor update without rendering. wlr_output_damage keeps its damage
    // history right for this (a commit of a non-render buffer rotates nothing), and the
    // swapchain's buffer ages do not move either. Software cursors damage the scene, so they
    // still render.
    wlr_scene_output* scene_output = wlr_scene_get_scene_output(server_.scene.get(), output_);
    if (!front_ || !wlr_output_is_drm(output_) || !scene_output ||
        pixman_region32_not_empty(&scene_output->damage->current))
        return false;
    // Nothing changed and nothing asked for a flip (the flip of our re-commit completing):
    // the scene would only render the same frame again into a fresh swapchain buffer.
    if (!output_->needs_frame)
        return true;
    wlr_output_attach_buffer(output_, front_.get());
    if (wlr_output_commit(output_))
        return true;
    wlr_log(WLR_DEBUG, "output %s: re-committing the frame on screen failed; rendering one", output_->name);
    return false;
}

} // namespace syncway
