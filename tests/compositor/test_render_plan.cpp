// What each stacked surface draws on an output, and what is cleared, decided from pixman
// regions alone (compositor/render_plan.hpp), and which windows are covered entirely
// (compositor/occlusion.hpp).
#include "occlusion.hpp"
#include "render_plan.hpp"

#include <gtest/gtest.h>

#include <vector>

using syncway::PlanItem;
using syncway::Region;
using syncway::RenderPlan;

namespace {

constexpr pixman_box32_t output{0, 0, 1920, 1080};

pixman_box32_t box(int x, int y, int w, int h) { return {x, y, x + w, y + h}; }

// The region's area in pixels.
long area(const Region& region)
{
    int n = 0;
    const pixman_box32_t* rects = pixman_region32_rectangles(const_cast<pixman_region32_t*>(region.get()), &n);
    long sum = 0;
    for (int i = 0; i < n; ++i)
        sum += long(rects[i].x2 - rects[i].x1) * (rects[i].y2 - rects[i].y1);
    return sum;
}

bool equals_box(const Region& region, const pixman_box32_t& b)
{
    Region expected;
    expected.add_rect(b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1);
    return pixman_region32_equal(const_cast<pixman_region32_t*>(region.get()), expected.get());
}

// Damage over the whole output.
struct FullDamage : Region {
    FullDamage() { add_rect(0, 0, 1920, 1080); }
};

} // namespace

TEST(RenderPlan, StackedOpaqueWindowsDrawOnlyTheTopOne)
{
    // Four opaque windows filling the output: only the top one is drawn, nothing is cleared.
    std::vector<Region> opaque(4);
    std::vector<PlanItem> items;
    for (auto& o : opaque) {
        o.add_rect(0, 0, 1920, 1080);
        items.push_back({output, &o});
    }
    FullDamage damage;
    RenderPlan plan;
    plan.build(items, output, damage.get());
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(area(plan.draw(i)), 0) << "covered window " << i << " is drawn";
        EXPECT_EQ(area(plan.visible(i)), 0) << "covered window " << i << " is visible";
    }
    EXPECT_TRUE(equals_box(plan.draw(3), output));
    EXPECT_EQ(area(plan.clear()), 0) << "pixels under an opaque window are cleared";
}

TEST(RenderPlan, PartlyCoveredSurfaceDrawsOnlyWhatShows)
{
    // Below: the whole output, opaque. Above: 400x300 at (100, 100), opaque only in its left half.
    Region below_opaque, above_opaque;
    below_opaque.add_rect(0, 0, 1920, 1080);
    above_opaque.add_rect(100, 100, 200, 300);
    std::vector<PlanItem> items{{output, &below_opaque}, {box(100, 100, 400, 300), &above_opaque}};
    FullDamage damage;
    RenderPlan plan;
    plan.build(items, output, damage.get());
    EXPECT_EQ(area(plan.draw(0)), 1920L * 1080 - 200 * 300) << "the covered part of the window below is drawn";
    EXPECT_TRUE(equals_box(plan.draw(1), box(100, 100, 400, 300)));
    EXPECT_EQ(area(plan.clear()), 0);

    // Damage only under the opaque half: the window above redraws it, the one below does not.
    Region small;
    small.add_rect(150, 150, 50, 50);
    plan.build(items, output, small.get());
    EXPECT_EQ(area(plan.draw(0)), 0) << "a change under an opaque window draws the window below";
    EXPECT_TRUE(equals_box(plan.draw(1), box(150, 150, 50, 50)));
    // Under the translucent half, both are drawn (the one above blends over the one below).
    Region right;
    right.add_rect(350, 150, 50, 50);
    plan.build(items, output, right.get());
    EXPECT_TRUE(equals_box(plan.draw(0), box(350, 150, 50, 50)));
    EXPECT_TRUE(equals_box(plan.draw(1), box(350, 150, 50, 50)));
}

TEST(RenderPlan, OnlyDamageNothingOpaqueCoversIsCleared)
{
    // A translucent window over nothing: its damage is cleared (it blends over the background)
    // and damage outside every window is cleared too.
    Region none, opaque;
    opaque.add_rect(1000, 0, 100, 100);
    std::vector<PlanItem> items{{box(0, 0, 500, 500), &none}, {box(1000, 0, 100, 100), &opaque}};
    FullDamage damage;
    RenderPlan plan;
    plan.build(items, output, damage.get());
    EXPECT_EQ(area(plan.clear()), 1920L * 1080 - 100 * 100);
    EXPECT_TRUE(equals_box(plan.draw(0), box(0, 0, 500, 500)));
    EXPECT_FALSE(plan.empty());
}

TEST(RenderPlan, OpaqueRegionIsClippedToItsItemAndOutput)
{
    // An opaque region larger than its item covers only the item's pixels, and items off the
    // output are neither drawn nor visible.
    Region big, below_opaque;
    big.add_rect(-100, -100, 5000, 5000);
    std::vector<PlanItem> items{{output, &below_opaque}, {box(0, 0, 10, 10), &big}, {box(3000, 0, 10, 10), &big}};
    FullDamage damage;
    RenderPlan plan;
    plan.build(items, output, damage.get());
    EXPECT_EQ(area(plan.draw(0)), 1920L * 1080 - 100);
    EXPECT_EQ(area(plan.visible(2)), 0);
    EXPECT_EQ(area(plan.clear()), 1920L * 1080 - 100);
}

TEST(RenderPlan, NoDamageMeansAnEmptyPlanButVisibilityStays)
{
    Region opaque;
    opaque.add_rect(0, 0, 1920, 1080);
    std::vector<PlanItem> items{{output, &opaque}};
    Region none;
    RenderPlan plan;
    plan.build(items, output, none.get());
    EXPECT_TRUE(plan.empty());
    EXPECT_TRUE(equals_box(plan.visible(0), output));
    // Rebuilt with fewer items, the plan forgets the others.
    plan.build({}, output, none.get());
    EXPECT_EQ(plan.size(), 0u);
}

TEST(CoveredWindows, UnionOfOpaqueWindowsAboveCovers)
{
    // Two opaque halves above cover a full-output window; a translucent one covers nothing.
    Region left, right, whole, none, left_opaque, right_opaque, whole_opaque;
    left.add_rect(0, 0, 960, 1080);
    left_opaque.add_rect(0, 0, 960, 1080);
    right.add_rect(960, 0, 960, 1080);
    right_opaque.add_rect(960, 0, 960, 1080);
    whole.add_rect(0, 0, 1920, 1080);
    std::vector<syncway::WindowRegions> windows{{&left, &left_opaque}, {&right, &right_opaque}, {&whole, &none}};
    auto covered = syncway::covered_windows(windows);
    EXPECT_EQ(covered, (std::vector<bool>{false, false, true}));
    std::vector<syncway::WindowRegions> translucent{{&whole, &none}, {&whole, &whole_opaque}};
    EXPECT_EQ(syncway::covered_windows(translucent), (std::vector<bool>{false, false}));
}
