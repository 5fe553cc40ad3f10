#include "hidden_damage.hpp"

#include "server.hpp"

#include <cmath>

namespace syncway {

HiddenDamage::HiddenDamage(Server& server) : scene_(server.scene.get())
{
    new_surface_.connect(&server.compositor->events.new_surface, [this](void* data) {
        auto* surface = static_cast<wlr_surface*>(data);
        auto tap = std::make_unique<Tap>();
        tap->commit.connect(&surface->events.commit, [this, surface](void*) { on_commit(surface); });
        // Erasing the tap destroys the listener running this callback; nothing is touched after.
        tap->destroy.connect(&surface->events.destroy, [this, surface](void*) { taps_.erase(surface); });
        taps_[surface] = std::move(tap);
    });
}

void HiddenDamage::on_commit(wlr_surface* surface)
{
    if (!pixman_region32_not_empty(&surface->buffer_damage))
        return;
    if (!gather_scene_items(scene_, items_))
        return;  // the scene draws it with wlroots' own pass, which composites everything
    size_t index = items_.size();
    for (size_t i = 0; i < items_.size(); ++i)
        if (items_[i].node->type == WLR_SCENE_NODE_SURFACE &&
            wlr_scene_surface_from_node(items_[i].node)->surface == surface)
            index = i;
    if (index == items_.size())
        return;  // not shown (no node, or a disabled one): the scene ignores its damage anyway
    Region above;
    for (size_t i = index + 1; i < items_.size(); ++i)
        add_opaque_region(items_[i], above);
    if (!pixman_region32_not_empty(above.get()))
        return;

    const SceneItem& item = items_[index];
    Region damage;  // in layout coordinates
    wlr_surface_get_effective_damage(surface, damage.get());
    pixman_region32_translate(damage.get(), item.lx, item.ly);
    // On a scaled output, wlroots widens the damage of a surface it scales up (filtering reads
    // neighbouring pixels): widen it as much before asking whether it is all hidden.
    bool scaled = false;
    wlr_scene_output* scene_output;
    wl_list_for_each(scene_output, &scene_->outputs, link) scaled = scaled || scene_output->output->scale != 1.0f;
    if (scaled) {
        Region wide;
        int count = 0;
        const pixman_box32_t* rects = pixman_region32_rectangles(damage.get(), &count);
        for (int r = 0; r < count; ++r)
            wide.add_rect(rects[r].x1 - 2, rects[r].y1 - 2, rects[r].x2 - rects[r].x1 + 4, rects[r].y2 - rects[r].y1 + 4);
        pixman_region32_copy(damage.get(), wide.get());
    }
    Region visible;
    pixman_region32_subtract(visible.get(), damage.get(), above.get());
    if (!pixman_region32_not_empty(visible.get())) {
        pixman_region32_clear(&surface->buffer_damage);
        return;
    }
    // Part of it shows. Buffer and surface coordinates agree when the buffer is neither scaled,
    // transformed nor cropped: then only the rectangles that show are kept.
    const wlr_surface_state& state = surface->current;
    if (scaled || state.scale != 1 || state.transform != WL_OUTPUT_TRANSFORM_NORMAL || state.viewport.has_src ||
        state.viewport.has_dst)
        return;
    pixman_region32_translate(visible.get(), -item.lx, -item.ly);
    pixman_region32_intersect(&surface->buffer_damage, &surface->buffer_damage, visible.get());
}

} // namespace syncway
