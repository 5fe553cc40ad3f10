// Which frames may put a client's buffer straight on the primary plane (compositor/scanout_choice.hpp):
// one opaque client surface, alone in view, mapping 1:1 onto the output's pixels, with nothing
// drawn over it in software and no capture reading the composite.
#include "scanout_choice.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <vector>

namespace syncway {
// Failures name the verdicts in words.
void PrintTo(ScanoutVerdict verdict, std::ostream* out) { *out << '"' << scanout_verdict_text(verdict) << '"'; }
} // namespace syncway

using syncway::choose_scanout;
using syncway::ScanoutFrame;
using syncway::ScanoutItem;
using syncway::ScanoutVerdict;

namespace {

constexpr int W = 1024, H = 768;

ScanoutFrame kms_frame()
{
    ScanoutFrame frame;
    frame.allowed = true;
    frame.output_box = {0, 0, W, H};
    frame.mode_width = W;
    frame.mode_height = H;
    return frame;
}

// A full-output opaque window with a buffer of the mode's size: fit for scan-out.
ScanoutItem full_window()
{
    ScanoutItem item;
    item.box = {0, 0, W, H};
    item.visible = true;
    item.surface = true;
    item.has_buffer = true;
    item.opaque = true;
    item.buffer_width = W;
    item.buffer_height = H;
    item.transform_matches = true;
    return item;
}

ScanoutVerdict verdict(const ScanoutFrame& frame, const std::vector<ScanoutItem>& items)
{
    return choose_scanout(frame, items).verdict;
}

} // namespace

TEST(ScanoutChoice, LoneOpaqueFullOutputSurfaceIsScannedOut)
{
    auto choice = choose_scanout(kms_frame(), std::vector<ScanoutItem>{full_window()});
    EXPECT_EQ(choice.verdict, ScanoutVerdict::Yes);
    EXPECT_EQ(choice.item, 0u);
}

TEST(ScanoutChoice, NeverWhereNotAllowed)
{
    // Headless and nested outputs, and --direct-scanout off.
    ScanoutFrame frame = kms_frame();
    frame.allowed = false;
    EXPECT_EQ(verdict(frame, {full_window()}), ScanoutVerdict::Off);
}

TEST(ScanoutChoice, WindowsHiddenBelowDoNotCount)
{
    // Two windows under the top one, covered by it (the render plan sees none of their pixels):
    // only the top one is shown, and it is the one chosen.
    ScanoutItem hidden = full_window();
    hidden.visible = false;
    auto choice = choose_scanout(kms_frame(), std::vector<ScanoutItem>{hidden, hidden, full_window()});
    EXPECT_EQ(choice.verdict, ScanoutVerdict::Yes);
    EXPECT_EQ(choice.item, 2u);
}

TEST(ScanoutChoice, SecondVisibleThingPreventsIt)
{
    // A translucent window on top, a popup, a subsurface: anything else that can be seen.
    ScanoutItem popup = full_window();
    popup.box = {100, 100, 300, 200};
    popup.opaque = false;
    EXPECT_EQ(verdict(kms_frame(), {full_window(), popup}), ScanoutVerdict::SeveralShown);
    ScanoutItem over = full_window();
    over.opaque = false;
    EXPECT_EQ(verdict(kms_frame(), {full_window(), over}), ScanoutVerdict::SeveralShown);
}

TEST(ScanoutChoice, NothingShown)
{
    EXPECT_EQ(verdict(kms_frame(), {}), ScanoutVerdict::NothingShown);
    ScanoutItem hidden = full_window();
    hidden.visible = false;
    EXPECT_EQ(verdict(kms_frame(), {hidden}), ScanoutVerdict::NothingShown);
}

TEST(ScanoutChoice, SolidRectangleIsNotAClientBuffer)
{
    ScanoutItem rect = full_window();
    rect.surface = false;
    EXPECT_EQ(verdict(kms_frame(), {rect}), ScanoutVerdict::NotASurface);
}

TEST(ScanoutChoice, MustCoverTheOutputExactly)
{
    // A lone window smaller than the output (black around it), offset, or larger (clipped).
    for (pixman_box32_t box : {pixman_box32_t{0, 0, W - 1, H}, pixman_box32_t{1, 0, W + 1, H},
                               pixman_box32_t{0, -10, W, H}, pixman_box32_t{-1, -1, W + 1, H + 1}}) {
        ScanoutItem item = full_window();
        item.box = box;
        EXPECT_EQ(verdict(kms_frame(), {item}), ScanoutVerdict::NotCovering)
            << box.x1 << "," << box.y1 << " " << box.x2 << "," << box.y2;
    }
}

TEST(ScanoutChoice, BufferMustBeOpaqueUncroppedUntransformedAndOfTheModeSize)
{
    ScanoutItem item = full_window();
    item.has_buffer = false;
    EXPECT_EQ(verdict(kms_frame(), {item}), ScanoutVerdict::NoBuffer);
    item = full_window();
    item.opaque = false;
    EXPECT_EQ(verdict(kms_frame(), {item}), ScanoutVerdict::Translucent);
    item = full_window();
    item.cropped = true;
    EXPECT_EQ(verdict(kms_frame(), {item}), ScanoutVerdict::Cropped);
    item = full_window();
    item.transform_matches = false;
    EXPECT_EQ(verdict(kms_frame(), {item}), ScanoutVerdict::Transformed);
    // A buffer of half the size stretched over the output (buffer scale 1 on a scale-2
    // output, or a viewport destination): the plane would not scale it.
    item = full_window();
    item.buffer_width = W / 2;
    item.buffer_height = H / 2;
    EXPECT_EQ(verdict(kms_frame(), {item}), ScanoutVerdict::SizeMismatch);
}

TEST(ScanoutChoice, RotatedOutputComparesTheBufferWithTheMode)
{
    // A 90-degree output: the output box is the mode transposed, the buffer (in the output's
    // transform) has the mode's size.
    ScanoutFrame frame = kms_frame();
    frame.output_box = {0, 0, H, W};
    ScanoutItem item = full_window();
    item.box = {0, 0, H, W};
    EXPECT_EQ(verdict(frame, {item}), ScanoutVerdict::Yes);
    item.buffer_width = H;
    item.buffer_height = W;
    EXPECT_EQ(verdict(frame, {item}), ScanoutVerdict::SizeMismatch);
}

TEST(ScanoutChoice, SoftwareCursorOrCapturePreventsIt)
{
    ScanoutFrame frame = kms_frame();
    frame.software_cursor = true;
    EXPECT_EQ(verdict(frame, {full_window()}), ScanoutVerdict::SoftwareCursor);
    frame = kms_frame();
    frame.capturing = true;
    EXPECT_EQ(verdict(frame, {full_window()}), ScanoutVerdict::Capturing);
}

TEST(ScanoutChoice, EveryVerdictHasWords)
{
    for (int v = int(ScanoutVerdict::Yes); v <= int(ScanoutVerdict::Refused); ++v)
        EXPECT_STRNE(syncway::scanout_verdict_text(ScanoutVerdict(v)), "?") << v;
}
