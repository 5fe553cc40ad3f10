#include "render_plan.hpp"

#include <algorithm>

namespace syncway {

void RenderPlan::build(std::span<const PlanItem> bottom_to_top, const pixman_box32_t& output_box,
                       const pixman_region32_t* damage)
{
    count_ = bottom_to_top.size();
    if (count_ > capacity_) {
        // Regions are reused from frame to frame: rebuilding them costs no allocation once
        // pixman has grown their rectangle arrays.
        capacity_ = count_;
        visible_ = std::make_unique<Region[]>(capacity_);
        draw_ = std::make_unique<Region[]>(capacity_);
    }
    auto* damaged = const_cast<pixman_region32_t*>(damage);
    Region above;  // opaque pixels of the items above the one being looked at
    Region opaque;
    // Top-down: an item is seen wherever nothing opaque above it is.
    for (size_t n = count_; n-- > 0;) {
        const PlanItem& item = bottom_to_top[n];
        pixman_box32_t box = item.box;
        box.x1 = std::max(box.x1, output_box.x1);
        box.y1 = std::max(box.y1, output_box.y1);
        box.x2 = std::min(box.x2, output_box.x2);
        box.y2 = std::min(box.y2, output_box.y2);
        Region& visible = visible_[n];
        if (box.x1 >= box.x2 || box.y1 >= box.y2) {
            visible.clear();
            draw_[n].clear();
            continue;
        }
        pixman_region32_reset(visible.get(), &box);
        pixman_region32_subtract(visible.get(), visible.get(), above.get());
        pixman_region32_intersect(draw_[n].get(), visible.get(), damaged);
        if (item.opaque && pixman_region32_not_empty(const_cast<pixman_region32_t*>(item.opaque->get()))) {
            pixman_region32_intersect_rect(opaque.get(), const_cast<pixman_region32_t*>(item.opaque->get()), box.x1,
                                           box.y1, unsigned(box.x2 - box.x1), unsigned(box.y2 - box.y1));
            pixman_region32_union(above.get(), above.get(), opaque.get());
        }
    }
    pixman_region32_subtract(clear_.get(), damaged, above.get());
    pixman_region32_intersect_rect(clear_.get(), clear_.get(), output_box.x1, output_box.y1,
                                   unsigned(output_box.x2 - output_box.x1), unsigned(output_box.y2 - output_box.y1));
}

bool RenderPlan::empty() const
{
    if (pixman_region32_not_empty(const_cast<pixman_region32_t*>(clear_.get())))
        return false;
    for (size_t i = 0; i < count_; ++i)
        if (pixman_region32_not_empty(const_cast<pixman_region32_t*>(draw_[i].get())))
            return false;
    return true;
}

} // namespace syncway
