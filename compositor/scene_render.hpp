// syncway's render pass for the wlroots scene on one output, in place of wlroots 0.15's
// wlr_scene_output_commit. That one clears every damaged pixel and then draws every node that
// meets the damage, including the parts of windows hidden behind opaque windows above them: with
// windows stacked over the whole output, every window is drawn each frame and only the top one
// is seen. Here each surface is drawn only where it can be seen (render_plan.hpp) and only
// damage that nothing opaque covers is cleared.
//
// Kept as wlroots does it: the output's damage tracking (wlr_output_damage, buffer ages), software
// cursors drawn last, wp_presentation "sampled" for the surfaces the frame shows, frame callbacks
// after each frame. Direct scan-out of a lone opaque surface that fills the output, as wlroots
// tries it, but only where allowed (KMS: headless and nested outputs show the buffer they are
// given to screen capture and recording, which must never get a client's) and only when what
// can be seen, not merely what is in the scene, is that one surface (scanout_choice.hpp).
#pragma once

#include "direct_scanout.hpp"
#include "render_plan.hpp"
#include "scanout_choice.hpp"
#include "wlr.hpp"

#include <ctime>
#include <memory>
#include <vector>

namespace syncway {

// A node of the scene that draws something, placed in layout coordinates.
struct SceneItem {
    wlr_scene_node* node;
    int lx, ly, width, height;
};

// The enabled nodes that draw something, bottom first (the order wlroots draws them in). False
// when the scene holds a node this pass cannot draw itself (a wlr_scene_buffer, whose texture
// wlroots keeps private; syncway creates none).
bool gather_scene_items(wlr_scene* scene, std::vector<SceneItem>& items);
// Adds the opaque part of `item`, in layout coordinates: a surface's opaque region (wlroots
// makes it the whole surface when the buffer's format has no alpha), or a rectangle of alpha 1.
void add_opaque_region(const SceneItem& item, Region& out);

class SceneOutputRender {
public:
    // scanout_allowed: direct scan-out may be tried (a KMS output, --direct-scanout auto).
    SceneOutputRender(wlr_scene* scene, wlr_output* output, wlr_presentation* presentation, bool scanout_allowed);
    SceneOutputRender(const SceneOutputRender&) = delete;

    // Brings the output up to date with the scene and commits, if anything changed; false when
    // the output refused the commit (or the scene output is gone).
    bool commit();
    // Frame callbacks for the surfaces this output shows: those with a part that can be seen,
    // for which it is the primary output. A surface entirely behind opaque ones gets none until
    // it can be seen again, as in wlroots 0.18's scene: its client is throttled instead of
    // drawing frames nobody sees.
    void send_frame_done(const timespec& now);

private:
    wlr_scene_output* scene_output() const;
    // Fills items_ and their boxes and opaque parts in output pixels; false when the scene
    // holds a node this pass cannot draw.
    bool gather();
    // plan_ for those items and `damage` (null: none, for visibility only).
    void build(const pixman_region32_t* damage);
    // Decides from plan_ whether this frame is a direct scan-out, and if so shows it.
    ScanoutVerdict try_scanout();
    bool software_cursor_shown() const;
    void render_item(size_t i, wlr_renderer* renderer);
    // pixman only: copies the rects of a surface whose buffer has no alpha and maps 1:1 onto
    // the output; false (nothing done) when it does not apply.
    bool copy_opaque(wlr_surface* surface, const pixman_box32_t& box, const pixman_box32_t* rects, int count,
                     wlr_renderer* renderer);
    void scissor(wlr_renderer* renderer, const pixman_box32_t& rect);
    pixman_box32_t output_box_of(const SceneItem& item) const;

    wlr_scene* scene_;
    wlr_output* output_;
    wlr_presentation* presentation_;
    std::vector<SceneItem> items_;
    std::vector<PlanItem> plan_items_;
    size_t opaque_capacity_ = 0;
    std::unique_ptr<Region[]> opaque_;  // per item, output pixels
    Region layout_opaque_;
    RenderPlan plan_;
    std::vector<ScanoutItem> scanout_items_;
    bool scanout_allowed_;
    DirectScanout direct_;
    bool prev_scanout_ = false;
};

} // namespace syncway
