#include "scene_render.hpp"

#include <cmath>

namespace syncway {

namespace {

void gather(wlr_scene_node* node, int lx, int ly, std::vector<SceneItem>& items, bool& drawable)
{
    if (!node->state.enabled)
        return;
    lx += node->state.x;
    ly += node->state.y;
    switch (node->type) {
    case WLR_SCENE_NODE_ROOT:
    case WLR_SCENE_NODE_TREE:
        break;
    case WLR_SCENE_NODE_SURFACE: {
        wlr_surface* surface = wlr_scene_surface_from_node(node)->surface;
        items.push_back({node, lx, ly, surface->current.width, surface->current.height});
        break;
    }
    case WLR_SCENE_NODE_RECT: {
        auto* rect = reinterpret_cast<wlr_scene_rect*>(node);  // the node is its first member
        items.push_back({node, lx, ly, rect->width, rect->height});
        break;
    }
    case WLR_SCENE_NODE_BUFFER:
        drawable = false;
        break;
    }
    wlr_scene_node* child;
    wl_list_for_each(child, &node->state.children, state.link) gather(child, lx, ly, items, drawable);
}

// wlroots' rounding of a layout box to output pixels (scale_box in wlr_scene.c): both edges
// rounded, so neighbouring boxes meet without gap or overlap.
int scale_edge(int v, double scale) { return int(std::round(v * scale)); }

} // namespace

bool gather_scene_items(wlr_scene* scene, std::vector<SceneItem>& items)
{
    items.clear();
    bool drawable = true;
    gather(&scene->node, 0, 0, items, drawable);
    return drawable;
}

void add_opaque_region(const SceneItem& item, Region& out)
{
    if (item.node->type == WLR_SCENE_NODE_SURFACE) {
        wlr_surface* surface = wlr_scene_surface_from_node(item.node)->surface;
        // Kept by wlroots clipped to the surface, and empty while it has no buffer.
        out.add_translated(&surface->opaque_region, item.lx, item.ly);
    } else if (item.node->type == WLR_SCENE_NODE_RECT) {
        auto* rect = reinterpret_cast<wlr_scene_rect*>(item.node);
        if (rect->color[3] >= 1.0f)
            out.add_rect(item.lx, item.ly, item.width, item.height);
    }
}

SceneOutputRender::SceneOutputRender(wlr_scene* scene, wlr_output* output, wlr_presentation* presentation,
                                     bool scanout_allowed)
    : scene_(scene), output_(output), presentation_(presentation), scanout_allowed_(scanout_allowed), direct_(output)
{
}

wlr_scene_output* SceneOutputRender::scene_output() const { return wlr_scene_get_scene_output(scene_, output_); }

pixman_box32_t SceneOutputRender::output_box_of(const SceneItem& item) const
{
    wlr_scene_output* so = scene_output();
    double scale = output_->scale;
    int x = item.lx - so->x, y = item.ly - so->y;
    return {scale_edge(x, scale), scale_edge(y, scale), scale_edge(x + item.width, scale),
            scale_edge(y + item.height, scale)};
}

bool SceneOutputRender::gather()
{
    wlr_scene_output* so = scene_output();
    if (!gather_scene_items(scene_, items_))
        return false;
    size_t n = items_.size();
    if (n > opaque_capacity_) {
        opaque_capacity_ = n;
        opaque_ = std::make_unique<Region[]>(n);
    }
    plan_items_.resize(n);
    double scale = output_->scale;
    bool integral = scale == std::floor(scale);
    for (size_t i = 0; i < n; ++i) {
        const SceneItem& item = items_[i];
        Region& opaque = opaque_[i];
        opaque.clear();
        layout_opaque_.clear();
        add_opaque_region(item, layout_opaque_);
        pixman_box32_t box = output_box_of(item);
        if (pixman_region32_not_empty(layout_opaque_.get())) {
            if (scale == 1.0) {
                pixman_region32_translate(layout_opaque_.get(), -so->x, -so->y);
                pixman_region32_copy(opaque.get(), layout_opaque_.get());
            } else if (integral) {
                int count = 0;
                const pixman_box32_t* rects = pixman_region32_rectangles(layout_opaque_.get(), &count);
                for (int r = 0; r < count; ++r) {
                    int x1 = scale_edge(rects[r].x1 - so->x, scale), y1 = scale_edge(rects[r].y1 - so->y, scale);
                    opaque.add_rect(x1, y1, scale_edge(rects[r].x2 - so->x, scale) - x1,
                                    scale_edge(rects[r].y2 - so->y, scale) - y1);
                }
            } else {
                // A fractional scale blends neighbouring pixels at the edges between opaque and
                // translucent parts; only a surface opaque all over is certainly opaque on screen.
                pixman_box32_t whole{item.lx, item.ly, item.lx + item.width, item.ly + item.height};
                if (pixman_region32_contains_rectangle(layout_opaque_.get(), &whole) == PIXMAN_REGION_IN)
                    opaque.add_rect(box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1);
            }
        }
        plan_items_[i] = {box, &opaque};
    }
    return true;
}

void SceneOutputRender::build(const pixman_region32_t* damage)
{
    int width = 0, height = 0;
    wlr_output_transformed_resolution(output_, &width, &height);
    Region none;
    plan_.build(plan_items_, pixman_box32_t{0, 0, width, height}, damage ? damage : none.get());
}

bool SceneOutputRender::software_cursor_shown() const
{
    wlr_output_cursor* cursor;
    wl_list_for_each(cursor, &output_->cursors, link) {
        if (cursor->enabled && cursor->visible && cursor != output_->hardware_cursor)
            return true;
    }
    return false;
}

ScanoutVerdict SceneOutputRender::try_scanout()
{
    if (!scanout_allowed_)
        return ScanoutVerdict::Off;
    int width = 0, height = 0;
    wlr_output_transformed_resolution(output_, &width, &height);
    ScanoutFrame frame;
    frame.allowed = true;
    frame.output_box = {0, 0, width, height};
    frame.mode_width = output_->width;
    frame.mode_height = output_->height;
    frame.software_cursor = software_cursor_shown();
    // Screencopy and dma-buf export lock rendering while they wait for a frame to copy.
    frame.capturing = output_->attach_render_locks > 0;
    scanout_items_.resize(plan_.size());
    for (size_t i = 0; i < plan_.size(); ++i) {
        ScanoutItem& out = scanout_items_[i];
        const SceneItem& item = items_[i];
        out = {};
        out.box = plan_items_[i].box;
        out.visible = pixman_region32_not_empty(const_cast<pixman_region32_t*>(plan_.visible(i).get()));
        if (!out.visible || item.node->type != WLR_SCENE_NODE_SURFACE)
            continue;
        wlr_surface* surface = wlr_scene_surface_from_node(item.node)->surface;
        out.surface = true;
        out.has_buffer = surface->buffer != nullptr;
        if (out.has_buffer) {
            out.buffer_width = surface->buffer->base.width;
            out.buffer_height = surface->buffer->base.height;
        }
        out.opaque = pixman_region32_contains_rectangle(const_cast<pixman_region32_t*>(opaque_[i].get()),
                                                        &out.box) == PIXMAN_REGION_IN;
        out.cropped = surface->current.viewport.has_src;
        out.transform_matches = surface->current.transform == output_->transform;
    }
    ScanoutChoice choice = choose_scanout(frame, scanout_items_);
    if (choice.verdict != ScanoutVerdict::Yes)
        return choice.verdict;
    wlr_scene_surface* scene_surface = wlr_scene_surface_from_node(items_[choice.item].node);
    if (!direct_.show(scene_surface->surface, scene_surface->primary_output == output_, presentation_))
        return ScanoutVerdict::Refused;  // logged by direct_
    return ScanoutVerdict::Yes;
}

void SceneOutputRender::scissor(wlr_renderer* renderer, const pixman_box32_t& rect)
{
    // Damage and plan are in the output's transformed orientation; the renderer scissors in the
    // buffer's.
    wlr_box box{rect.x1, rect.y1, rect.x2 - rect.x1, rect.y2 - rect.y1};
    int width = 0, height = 0;
    wlr_output_transformed_resolution(output_, &width, &height);
    wlr_box_transform(&box, &box, wlr_output_transform_invert(output_->transform), width, height);
    wlr_renderer_scissor(renderer, &box);
}

void SceneOutputRender::render_item(size_t i, wlr_renderer* renderer)
{
    const Region& draw = plan_.draw(i);
    int count = 0;
    const pixman_box32_t* rects = pixman_region32_rectangles(const_cast<pixman_region32_t*>(draw.get()), &count);
    if (count == 0)
        return;
    const SceneItem& item = items_[i];
    pixman_box32_t b = plan_items_[i].box;
    wlr_box dst{b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1};
    if (item.node->type == WLR_SCENE_NODE_RECT) {
        auto* rect = reinterpret_cast<wlr_scene_rect*>(item.node);
        for (int r = 0; r < count; ++r) {
            scissor(renderer, rects[r]);
            wlr_render_rect(renderer, &dst, rect->color, output_->transform_matrix);
        }
        return;
    }
    wlr_surface* surface = wlr_scene_surface_from_node(item.node)->surface;
    wlr_texture* texture = wlr_surface_get_texture(surface);
    if (!texture)
        return;
    if (copy_opaque(surface, b, rects, count, renderer))
        return;
    float matrix[9];
    wlr_matrix_project_box(matrix, &dst, wlr_output_transform_invert(surface->current.transform), 0.0,
                           output_->transform_matrix);
    wlr_fbox src{};
    wlr_surface_get_buffer_source_box(surface, &src);
    for (int r = 0; r < count; ++r) {
        scissor(renderer, rects[r]);
        wlr_render_subtexture_with_matrix(renderer, texture, &src, matrix, 1.0f);
    }
}

bool SceneOutputRender::copy_opaque(wlr_surface* surface, const pixman_box32_t& box, const pixman_box32_t* rects,
                                    int count, wlr_renderer* renderer)
{
    // wlroots 0.15's pixman renderer blends every texture (OVER, through a solid mask), even
    // one without alpha, where blending gives the source pixel. Copying it gives the same
    // pixels for half the memory traffic, when the buffer maps 1:1 onto the output's pixels.
    if (!wlr_renderer_is_pixman(renderer) || output_->scale != 1.0f ||
        output_->transform != WL_OUTPUT_TRANSFORM_NORMAL || !surface->buffer || !surface->buffer->source)
        return false;
    const wlr_surface_state& state = surface->current;
    if (state.scale != 1 || state.transform != WL_OUTPUT_TRANSFORM_NORMAL || state.viewport.has_src ||
        state.viewport.has_dst)
        return false;
    wlr_buffer* source = surface->buffer->source;
    if (source->width != box.x2 - box.x1 || source->height != box.y2 - box.y1)
        return false;
    void* data = nullptr;
    uint32_t format = 0;
    size_t stride = 0;
    if (!wlr_buffer_begin_data_ptr_access(source, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride))
        return false;
    pixman_format_code_t pixman_format = format == DRM_FORMAT_XRGB8888   ? PIXMAN_x8r8g8b8
                                         : format == DRM_FORMAT_XBGR8888 ? PIXMAN_x8b8g8r8
                                                                          : pixman_format_code_t(0);
    pixman_image_t* target = wlr_pixman_renderer_get_current_image(renderer);
    pixman_image_t* image = pixman_format && target
                                ? pixman_image_create_bits_no_clear(pixman_format, source->width, source->height,
                                                                    static_cast<uint32_t*>(data), int(stride))
                                : nullptr;
    if (image) {
        for (int r = 0; r < count; ++r) {
            scissor(renderer, rects[r]);
            pixman_image_composite32(PIXMAN_OP_SRC, image, nullptr, target, rects[r].x1 - box.x1,
                                     rects[r].y1 - box.y1, 0, 0, rects[r].x1, rects[r].y1, rects[r].x2 - rects[r].x1,
                                     rects[r].y2 - rects[r].y1);
        }
        pixman_image_unref(image);
    }
    wlr_buffer_end_data_ptr_access(source);
    return image != nullptr;
}

bool SceneOutputRender::commit()
{
    wlr_scene_output* so = scene_output();
    if (!so)
        return false;
    wlr_renderer* renderer = output_->renderer;
    if (!gather())
        return wlr_scene_output_commit(so);  // a node only wlroots can draw: its pass, unchanged
    build(nullptr);

    ScanoutVerdict verdict = try_scanout();
    bool scanout = verdict == ScanoutVerdict::Yes;
    if (scanout != prev_scanout_) {
        wlr_log(WLR_DEBUG, "output %s: direct scan-out %s (%s)", output_->name, scanout ? "on" : "off",
                scanout_verdict_text(verdict));
        // Leaving scan-out, the swapchain's buffers hold stale frames: redraw everything.
        wlr_output_damage_add_whole(so->damage);
    }
    prev_scanout_ = scanout;
    if (scanout)
        return true;
    direct_.composited();

    bool needs_frame = false;
    Region damage;
    if (!wlr_output_damage_attach_render(so->damage, &needs_frame, damage.get()))
        return false;
    if (!needs_frame) {
        wlr_output_rollback(output_);
        return true;
    }
    build(damage.get());

    wlr_renderer_begin(renderer, output_->width, output_->height);
    int count = 0;
    const pixman_box32_t* rects =
        pixman_region32_rectangles(const_cast<pixman_region32_t*>(plan_.clear().get()), &count);
    static constexpr float black[4] = {0.0f, 0.0f, 0.0f, 1.0f};
    for (int r = 0; r < count; ++r) {
        scissor(renderer, rects[r]);
        wlr_renderer_clear(renderer, black);
    }
    for (size_t i = 0; i < plan_.size(); ++i) {
        render_item(i, renderer);
        // wlroots reports every surface the frame shows as sampled, drawn this time or not: its
        // content on screen is the one now current.
        const SceneItem& item = items_[i];
        if (presentation_ && item.node->type == WLR_SCENE_NODE_SURFACE &&
            pixman_region32_not_empty(const_cast<pixman_region32_t*>(plan_.visible(i).get()))) {
            wlr_scene_surface* scene_surface = wlr_scene_surface_from_node(item.node);
            if (scene_surface->primary_output == output_)
                wlr_presentation_surface_sampled_on_output(presentation_, scene_surface->surface, output_);
        }
    }
    wlr_output_render_software_cursors(output_, damage.get());
    wlr_renderer_scissor(renderer, nullptr);
    wlr_renderer_end(renderer);

    int width = 0, height = 0;
    wlr_output_transformed_resolution(output_, &width, &height);
    Region frame_damage;
    wlr_region_transform(frame_damage.get(), &so->damage->current, wlr_output_transform_invert(output_->transform),
                         width, height);
    wlr_output_set_damage(output_, frame_damage.get());
    return wlr_output_commit(output_);
}

void SceneOutputRender::send_frame_done(const timespec& now)
{
    if (!scene_output() || !gather()) {
        if (wlr_scene_output* so = scene_output())
            wlr_scene_output_send_frame_done(so, const_cast<timespec*>(&now));
        return;
    }
    build(nullptr);
    for (size_t i = 0; i < plan_.size(); ++i) {
        const SceneItem& item = items_[i];
        if (item.node->type != WLR_SCENE_NODE_SURFACE ||
            !pixman_region32_not_empty(const_cast<pixman_region32_t*>(plan_.visible(i).get())))
            continue;
        wlr_scene_surface* scene_surface = wlr_scene_surface_from_node(item.node);
        if (scene_surface->primary_output == output_)
            wlr_surface_send_frame_done(scene_surface->surface, &now);
    }
}

} // namespace syncway
