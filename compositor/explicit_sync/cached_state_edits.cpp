#include "cached_state_edits.hpp"

#include <utility>

namespace syncway {
namespace {

// What determines a state's size besides its buffer, carried from state to state as wlroots
// does when it applies them.
struct Geometry {
    int32_t scale = 1;
    wl_output_transform transform = WL_OUTPUT_TRANSFORM_NORMAL;
    decltype(wlr_surface_state::viewport) viewport{};

    explicit Geometry(const wlr_surface_state& current)
        : scale(current.scale), transform(current.transform), viewport(current.viewport)
    {
    }
    void apply(const wlr_surface_state& next)
    {
        if (next.committed & WLR_SURFACE_STATE_SCALE)
            scale = next.scale;
        if (next.committed & WLR_SURFACE_STATE_TRANSFORM)
            transform = next.transform;
        if (next.committed & WLR_SURFACE_STATE_VIEWPORT)
            viewport = next.viewport;
    }
    // wl_surface + wp_viewporter: destination size, else source size, else the buffer
    // transformed and divided by the scale; no buffer means no size.
    void size(wlr_surface_state& state) const
    {
        int w = state.buffer_width, h = state.buffer_height;
        if (w == 0 && h == 0) {
            state.width = state.height = 0;
        } else if (viewport.has_dst) {
            state.width = viewport.dst_width;
            state.height = viewport.dst_height;
        } else if (viewport.has_src) {
            state.width = static_cast<int>(viewport.src.width);
            state.height = static_cast<int>(viewport.src.height);
        } else {
            if (transform & WL_OUTPUT_TRANSFORM_90)
                std::swap(w, h);
            state.width = w / scale;
            state.height = h / scale;
        }
    }
};

} // namespace

wlr_surface_state* find_cached_state(wlr_surface* surface, uint32_t seq)
{
    wlr_surface_state* state;
    wl_list_for_each(state, &surface->cached, cached_state_link)
        if (state->seq == seq)
            return state;
    return nullptr;
}

void drop_cached_buffer(wlr_surface* surface, wlr_surface_state* failed)
{
    Geometry geometry(surface->current);
    int prev_width = surface->current.buffer_width, prev_height = surface->current.buffer_height;
    bool fixing = false;
    wlr_surface_state* state;
    wl_list_for_each(state, &surface->cached, cached_state_link) {
        geometry.apply(*state);
        if (state == failed) {
            wlr_buffer_unlock(state->buffer);
            state->buffer = nullptr;
            state->committed &= ~WLR_SURFACE_STATE_BUFFER;
            fixing = true;
        } else if (fixing && (state->committed & WLR_SURFACE_STATE_BUFFER)) {
            fixing = false;
        }
        if (fixing) {
            state->buffer_width = prev_width;
            state->buffer_height = prev_height;
            geometry.size(*state);
        } else {
            prev_width = state->buffer_width;
            prev_height = state->buffer_height;
        }
    }
    // The pending state carries the buffer size on to commits that attach nothing.
    if (fixing && !(surface->pending.committed & WLR_SURFACE_STATE_BUFFER)) {
        surface->pending.buffer_width = prev_width;
        surface->pending.buffer_height = prev_height;
    }
}

std::optional<uint32_t> lock_oldest_cached_state(wlr_surface* surface)
{
    if (wl_list_empty(&surface->cached))
        return std::nullopt;
    wlr_surface_state* oldest = wl_container_of(surface->cached.next, oldest, cached_state_link);
    ++oldest->cached_state_locks;
    return oldest->seq;
}

} // namespace syncway
