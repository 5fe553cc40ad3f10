// Whether a frame of one output may skip compositing and put a client's buffer straight on the
// display's primary plane (direct scan-out), decided from what the frame would show.
//
// It may when exactly one thing can be seen on the output, and that thing is a client surface
// whose buffer is opaque and maps onto the output's pixels one to one: covering the output
// exactly, buffer size equal to the output's mode, no crop, the output's own transform. Nothing
// may be drawn over it in software (a cursor the plane does not carry), and nobody may be
// reading the output's composited frames (a screen capture in progress). Whether the display
// then takes the buffer is for the driver to say (compositor/direct_scanout.hpp asks it).
//
// Data in, verdict out (no wlroots), so the rules are unit-tested on their own;
// compositor/scene_render.cpp fills the inputs from the scene and its render plan.
#pragma once

#include <pixman.h>

#include <cstddef>
#include <span>

namespace syncway {

enum class ScanoutVerdict {
    Yes,
    Off,             // not on this output: --direct-scanout off, or not a KMS output
    NothingShown,    // no visible surface
    SeveralShown,    // more than one thing can be seen (a window over another, a popup, ...)
    NotASurface,     // the one thing seen is a solid rectangle of ours
    NotCovering,     // it does not cover the output exactly
    NoBuffer,        // the surface has no buffer
    Translucent,     // its buffer is not opaque all over
    Cropped,         // a viewport source box picks part of the buffer
    Transformed,     // its buffer transform differs from the output's
    SizeMismatch,    // buffer pixels != output pixels (a buffer scale or viewport that scales)
    SoftwareCursor,  // a cursor would be drawn over it
    Capturing,       // a screen capture reads the composited frame
    Refused,         // fit, but the display did not take the buffer (never from choose_scanout)
};

// One drawable thing of the scene on this output, in stacking order (bottom first).
struct ScanoutItem {
    pixman_box32_t box{};  // what it covers, in output pixels
    bool visible = false;  // some pixel of it can be seen (the render plan's visible region)
    bool surface = false;  // a client surface (else a solid rectangle)
    bool has_buffer = false;
    bool opaque = false;   // its opaque region covers all of box
    int buffer_width = 0, buffer_height = 0;
    bool cropped = false;             // viewport source box set
    bool transform_matches = false;   // buffer transform == output transform
};

struct ScanoutFrame {
    bool allowed = false;           // KMS output, --direct-scanout auto
    pixman_box32_t output_box{};    // the output in output pixels (transformed orientation)
    int mode_width = 0, mode_height = 0;  // the buffer size the primary plane shows
    bool software_cursor = false;   // a cursor drawn in software is visible on the output
    bool capturing = false;         // screencopy or dma-buf export holds the output's frames
};

struct ScanoutChoice {
    ScanoutVerdict verdict;
    size_t item = 0;  // with Yes: the item to scan out
};

ScanoutChoice choose_scanout(const ScanoutFrame& frame, std::span<const ScanoutItem> bottom_to_top);

// A few words for logs: why a frame is composited ("a cursor drawn in software over it").
const char* scanout_verdict_text(ScanoutVerdict verdict);

} // namespace syncway
