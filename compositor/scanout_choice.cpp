#include "scanout_choice.hpp"

namespace syncway {

namespace {

bool same_box(const pixman_box32_t& a, const pixman_box32_t& b)
{
    return a.x1 == b.x1 && a.y1 == b.y1 && a.x2 == b.x2 && a.y2 == b.y2;
}

} // namespace

ScanoutChoice choose_scanout(const ScanoutFrame& frame, std::span<const ScanoutItem> bottom_to_top)
{
    if (!frame.allowed)
        return {ScanoutVerdict::Off};
    size_t shown = 0, index = 0;
    for (size_t i = 0; i < bottom_to_top.size(); ++i)
        if (bottom_to_top[i].visible) {
            ++shown;
            index = i;
        }
    if (shown == 0)
        return {ScanoutVerdict::NothingShown};
    if (shown > 1)
        return {ScanoutVerdict::SeveralShown};
    const ScanoutItem& item = bottom_to_top[index];
    if (!item.surface)
        return {ScanoutVerdict::NotASurface};
    if (!same_box(item.box, frame.output_box))
        return {ScanoutVerdict::NotCovering};
    if (!item.has_buffer)
        return {ScanoutVerdict::NoBuffer};
    // The plane shows the buffer's alpha as it is, where compositing would blend it over black.
    if (!item.opaque)
        return {ScanoutVerdict::Translucent};
    if (item.cropped)
        return {ScanoutVerdict::Cropped};
    if (!item.transform_matches)
        return {ScanoutVerdict::Transformed};
    if (item.buffer_width != frame.mode_width || item.buffer_height != frame.mode_height)
        return {ScanoutVerdict::SizeMismatch};
    // Checked last: these come and go while the scene stays the same.
    if (frame.software_cursor)
        return {ScanoutVerdict::SoftwareCursor};
    if (frame.capturing)
        return {ScanoutVerdict::Capturing};
    return {ScanoutVerdict::Yes, index};
}

const char* scanout_verdict_text(ScanoutVerdict verdict)
{
    switch (verdict) {
    case ScanoutVerdict::Yes:
        return "a lone opaque client buffer covers the output";
    case ScanoutVerdict::Off:
        return "off for this output";
    case ScanoutVerdict::NothingShown:
        return "no surface is shown";
    case ScanoutVerdict::SeveralShown:
        return "more than one thing can be seen";
    case ScanoutVerdict::NotASurface:
        return "what is shown is not a client surface";
    case ScanoutVerdict::NotCovering:
        return "the surface does not cover the output exactly";
    case ScanoutVerdict::NoBuffer:
        return "the surface has no buffer";
    case ScanoutVerdict::Translucent:
        return "the buffer is not opaque all over";
    case ScanoutVerdict::Cropped:
        return "a viewport crops the buffer";
    case ScanoutVerdict::Transformed:
        return "the buffer's transform is not the output's";
    case ScanoutVerdict::SizeMismatch:
        return "the buffer's size is not the output mode's";
    case ScanoutVerdict::SoftwareCursor:
        return "a cursor is drawn in software over it";
    case ScanoutVerdict::Capturing:
        return "a screen capture reads the composited frame";
    case ScanoutVerdict::Refused:
        return "the display did not take the buffer";
    }
    return "?";
}

} // namespace syncway
