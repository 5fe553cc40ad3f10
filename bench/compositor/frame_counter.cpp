#include "frame_counter.hpp"

#include <syncway/testing/dispatch.hpp>

#include <string_view>

namespace syncway::bench {

using testing::DispatchResult;
using testing::dispatch_until;

FrameCounter::~FrameCounter()
{
    if (!display_)
        return;
    if (frame_)
        wl_callback_destroy(frame_);
    buffers_.reset();
    toplevel_.reset();
    globals_.reset();
    if (registry_)
        wl_registry_destroy(registry_);
    wl_display_disconnect(display_);
}

void FrameCounter::on_release(void* data, wl_buffer* buffer)
{
    auto* self = static_cast<FrameCounter*>(data);
    for (int i = 0; i < buffer_count; ++i)
        if (self->buffers_->get(i) == buffer)
            self->busy_[i] = false;
}

void FrameCounter::on_frame(void* data, wl_callback* callback, uint32_t)
{
    auto* self = static_cast<FrameCounter*>(data);
    wl_callback_destroy(callback);
    self->frame_ = nullptr;
    ++self->frames_;
    self->request_frame();
}

void FrameCounter::request_frame()
{
    wl_surface* surface = toplevel_->surface();
    if (animate_) {
        for (int i = 0; i < buffer_count; ++i) {
            if (busy_[i])
                continue;
            buffers_->fill(i, 0xff000000u | uint32_t(frames_ * 2654435761u));
            wl_surface_attach(surface, buffers_->get(i), 0, 0);
            wl_surface_damage(surface, 0, 0, size, size);
            busy_[i] = true;
            break;
        }
    }
    static const wl_callback_listener frame_listener = {.done = &FrameCounter::on_frame};
    frame_ = wl_surface_frame(surface);
    wl_callback_add_listener(frame_, &frame_listener, this);
    wl_surface_commit(surface);
}

bool FrameCounter::map_window(const std::string& socket_path, std::chrono::milliseconds timeout, std::string* error)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    };
    auto fail = [&](std::string what) {
        *error = std::move(what);
        return false;
    };
    display_ = wl_display_connect(socket_path.c_str());
    if (!display_)
        return fail("cannot connect");
    globals_ = std::make_unique<testing::CoreGlobals>();
    registry_ = wl_display_get_registry(display_);
    static const wl_registry_listener registry_listener = {
        .global = [](void* data, wl_registry* registry, uint32_t name, const char* interface,
                     uint32_t) { static_cast<testing::CoreGlobals*>(data)->bind(registry, name, interface); },
        .global_remove = [](void*, wl_registry*, uint32_t) {},
    };
    wl_registry_add_listener(registry_, &registry_listener, globals_.get());
    if (wl_display_roundtrip(display_) < 0 || !globals_->complete())
        return fail("missing wl_compositor, wl_shm or xdg_wm_base");

    toplevel_ = std::make_unique<testing::Toplevel>(globals_->compositor, globals_->wm_base, "syncway frame counter");
    if (dispatch_until(display_, [&] { return toplevel_->configured(); }, left()) != DispatchResult::done)
        return fail("no xdg_surface.configure");

    auto buffers = testing::ShmBuffers::create(globals_->shm, size, size, buffer_count, 0xff808080u);
    if (!buffers)
        return fail(buffers.error().message);
    buffers_.emplace(std::move(*buffers));
    static const wl_buffer_listener buffer_listener = {.release = &FrameCounter::on_release};
    for (int i = 0; i < buffer_count; ++i)
        wl_buffer_add_listener(buffers_->get(i), &buffer_listener, this);
    wl_surface_attach(toplevel_->surface(), buffers_->get(0), 0, 0);
    wl_surface_damage(toplevel_->surface(), 0, 0, size, size);
    busy_[0] = true;
    request_frame();
    switch (dispatch_until(display_, [&] { return frames_ > 0; }, left())) {
    case DispatchResult::done: return true;
    case DispatchResult::timed_out: return fail("no frame callback");
    case DispatchResult::lost: return fail("connection lost");
    }
    return false;
}

uint64_t FrameCounter::count_frames(std::chrono::milliseconds duration)
{
    uint64_t start = frames_;
    dispatch_until(display_, [] { return false; }, duration);
    return frames_ - start;
}

} // namespace syncway::bench
