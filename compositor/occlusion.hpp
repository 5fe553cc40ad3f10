// Which windows can be seen at all. wlroots 0.15's scene composites every enabled node that
// meets the damage, even one entirely behind opaque windows, and a commit of such a hidden
// surface damages the output and costs a frame. syncway stacks full-output windows, so all but
// the top one are usually hidden: compositing them is wasted work that grows with every window.
//
// This file holds the decision only (pixman regions in, a verdict per window out), so it can be
// tested without a compositor; compositor/protocols/xdg_shell.cpp gathers the regions and
// disables the scene nodes of covered windows before each frame.
#pragma once

#include <pixman.h>

#include <span>
#include <vector>

namespace syncway {

// A pixman region that frees itself.
class Region {
public:
    Region() { pixman_region32_init(&region_); }
    ~Region() { pixman_region32_fini(&region_); }
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;

    pixman_region32_t* get() { return &region_; }
    const pixman_region32_t* get() const { return &region_; }
    void add_rect(int x, int y, int width, int height)
    {
        if (width > 0 && height > 0)
            pixman_region32_union_rect(&region_, &region_, x, y, static_cast<unsigned>(width),
                                       static_cast<unsigned>(height));
    }
    // Adds `other` moved by (dx, dy).
    void add_translated(const pixman_region32_t* other, int dx, int dy);
    void clear() { pixman_region32_clear(&region_); }

private:
    pixman_region32_t region_;
};

// One window, in layout coordinates: everything it may draw (its surfaces, subsurfaces and
// popups), and the part of that which is opaque.
struct WindowRegions {
    const Region* extent;
    const Region* opaque;
};

// For windows in stacking order, topmost first: true for each one whose whole extent lies under
// the opaque parts of the windows above it. A window with an empty extent (nothing to draw) is
// reported covered: showing it would draw nothing either.
std::vector<bool> covered_windows(std::span<const WindowRegions> top_to_bottom);

} // namespace syncway
