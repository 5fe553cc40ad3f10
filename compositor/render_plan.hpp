// What each drawable thing of a scene must draw on one output, given what changed. A part of a
// surface under opaque surfaces above it can never be seen, so it is neither drawn nor cleared;
// only damage that no opaque surface covers is cleared to the background.
//
// Geometry only (pixman regions in, regions out), so it can be tested without a compositor;
// compositor/scene_render.cpp gathers the items from the wlroots scene and renders the plan.
#pragma once

#include "occlusion.hpp"

#include <pixman.h>

#include <memory>
#include <span>

namespace syncway {

// One drawable thing (a surface, a solid rectangle), in output pixels.
struct PlanItem {
    pixman_box32_t box;     // what it covers when drawn
    const Region* opaque;   // the part of that which is opaque (may extend beyond box: clipped)
};

class RenderPlan {
public:
    // items: in stacking order, bottom first (the order they are drawn in). output_box: the
    // output's pixels. damage: the pixels to bring up to date.
    void build(std::span<const PlanItem> bottom_to_top, const pixman_box32_t& output_box,
               const pixman_region32_t* damage);

    size_t size() const { return count_; }
    // Pixels of item i that can be seen on the output (damaged or not).
    const Region& visible(size_t i) const { return visible_[i]; }
    // Pixels of item i to draw this frame: its visible part within the damage.
    const Region& draw(size_t i) const { return draw_[i]; }
    // Damaged pixels no opaque item covers: cleared to the background before drawing.
    const Region& clear() const { return clear_; }
    // True when the plan draws and clears nothing.
    bool empty() const;

private:
    size_t count_ = 0;
    size_t capacity_ = 0;
    std::unique_ptr<Region[]> visible_;
    std::unique_ptr<Region[]> draw_;
    Region clear_;
};

} // namespace syncway
