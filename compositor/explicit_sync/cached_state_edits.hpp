// Editing states wlroots 0.15 has cached for held commits, which its API does not offer: taking
// a buffer out of one, and locking one that is already cached.
//
// A held commit whose acquire point failed (its signaler died) must never show its buffer, but
// wlroots 0.15 cannot drop a cached state, and keeping it locked would freeze the surface. So
// the buffer is removed from the cached state before it is unlocked: the rest of the commit
// (damage, frame callbacks, role state) applies and the surface keeps its previous content.
// wlroots computed each state's size from its buffer when the client committed, so this state
// and the later ones that attached no buffer get the size the surface would have had without it.
#pragma once

#include "../wlr.hpp"

#include <cstdint>
#include <optional>

namespace syncway {

// The cached state of `surface` with sequence number `seq`, or null.
wlr_surface_state* find_cached_state(wlr_surface* surface, uint32_t seq);

// Removes the buffer of the cached state `failed` (unlocking it, which may signal its release
// points right away) and fixes the sizes of the states after it.
void drop_cached_buffer(wlr_surface* surface, wlr_surface_state* failed);

// Adds a lock to the oldest cached state of `surface` (wlroots offers wlr_surface_lock_pending
// only for the pending state), so none of its cached states applies until
// wlr_surface_unlock_cached(surface, seq) with the returned seq. Nothing when it has none.
std::optional<uint32_t> lock_oldest_cached_state(wlr_surface* surface);

} // namespace syncway
