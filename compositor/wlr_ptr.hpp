// std::unique_ptr for wlroots objects whose lifetime we own (backend, renderer, allocator, ...):
// the destroy function is part of the type, so a forgotten cleanup cannot compile.
#pragma once

#include "wlr.hpp"

#include <memory>

namespace syncway {

template <auto destroy> struct WlrDeleter {
    template <typename T> void operator()(T* object) const noexcept { destroy(object); }
};

using DisplayPtr = std::unique_ptr<wl_display, WlrDeleter<wl_display_destroy>>;
using BackendPtr = std::unique_ptr<wlr_backend, WlrDeleter<wlr_backend_destroy>>;
using RendererPtr = std::unique_ptr<wlr_renderer, WlrDeleter<wlr_renderer_destroy>>;
using AllocatorPtr = std::unique_ptr<wlr_allocator, WlrDeleter<wlr_allocator_destroy>>;
using OutputLayoutPtr = std::unique_ptr<wlr_output_layout, WlrDeleter<wlr_output_layout_destroy>>;
using CursorPtr = std::unique_ptr<wlr_cursor, WlrDeleter<wlr_cursor_destroy>>;
using XcursorManagerPtr = std::unique_ptr<wlr_xcursor_manager, WlrDeleter<wlr_xcursor_manager_destroy>>;
using SeatPtr = std::unique_ptr<wlr_seat, WlrDeleter<wlr_seat_destroy>>;
using SessionPtr = std::unique_ptr<wlr_session, WlrDeleter<wlr_session_destroy>>;
using BufferPtr = std::unique_ptr<wlr_buffer, WlrDeleter<wlr_buffer_drop>>;
// A lock on a buffer someone else owns (wlr_buffer_lock): dropping it unlocks.
using BufferLockPtr = std::unique_ptr<wlr_buffer, WlrDeleter<wlr_buffer_unlock>>;
using XkbContextPtr = std::unique_ptr<xkb_context, WlrDeleter<xkb_context_unref>>;
using XkbKeymapPtr = std::unique_ptr<xkb_keymap, WlrDeleter<xkb_keymap_unref>>;

// An event source we added to a wl_event_loop: dropping it removes the source (its fd stays
// ours to close).
using EventSourcePtr = std::unique_ptr<wl_event_source, WlrDeleter<wl_event_source_remove>>;

// wlr_scene has no destroy function of its own in 0.15: its root node is destroyed.
inline void destroy_scene(wlr_scene* scene) { wlr_scene_node_destroy(&scene->node); }
using ScenePtr = std::unique_ptr<wlr_scene, WlrDeleter<destroy_scene>>;

} // namespace syncway
