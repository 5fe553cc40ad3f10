#include "xdg_shell.hpp"

#include "../server.hpp"

#include <algorithm>

namespace syncway {

Toplevel::Toplevel(XdgShell& shell, wlr_xdg_surface* xdg_surface) : shell_(shell), xdg_(xdg_surface)
{
    tree_ = wlr_scene_tree_create(&shell_.server().window_layer->node);
    tree_->node.data = this;
    wlr_scene_node_set_enabled(&tree_->node, false);
    wlr_scene_xdg_surface_create(&tree_->node, xdg_surface);
    // Popups of this toplevel find their parent node here.
    xdg_surface->data = &tree_->node;

    map_.connect(&xdg_surface->events.map, [this](void*) { shell_.handle_map(this); });
    unmap_.connect(&xdg_surface->events.unmap, [this](void*) { shell_.handle_unmap(this); });
    destroy_.connect(&xdg_surface->events.destroy, [this](void*) { shell_.handle_destroy(this); });
    // Every window is maximized to its output already; the protocol still wants a configure.
    request_maximize_.connect(&xdg_surface->toplevel->events.request_maximize,
                              [this](void*) { wlr_xdg_surface_schedule_configure(xdg_); });
    request_fullscreen_.connect(&xdg_surface->toplevel->events.request_fullscreen,
                                [this](void*) { wlr_xdg_surface_schedule_configure(xdg_); });
    // min/max size arrive with commits (the first one before the initial configure goes out).
    commit_.connect(&xdg_surface->surface->events.commit, [this](void*) { configure_size(); });

    // The size goes into the first configure, before the client draws anything.
    output_ = shell_.server().output_for_new_window();
    wlr_xdg_toplevel_set_maximized(xdg_surface, true);
    fit_to_output();
}

Toplevel::~Toplevel()
{
    xdg_->data = nullptr;
    wlr_scene_node_destroy(&tree_->node);
}

void Toplevel::set_mapped(bool mapped)
{
    mapped_ = mapped;
    if (!mapped)
        covered_ = false;  // decided afresh once it is mapped again
    wlr_scene_node_set_enabled(&tree_->node, mapped_ && !covered_);
}

void Toplevel::set_covered(bool covered)
{
    if (covered == covered_)
        return;
    covered_ = covered;
    wlr_log(WLR_DEBUG, "window '%s': %s", xdg_->toplevel->title ? xdg_->toplevel->title : "",
            covered ? "covered by opaque windows above, not composited" : "visible again");
    // Enabling damages the node's area, so the frame being prepared shows its latest content.
    wlr_scene_node_set_enabled(&tree_->node, mapped_ && !covered_);
}

void Toplevel::gather_regions(Region& extent, Region& opaque) const
{
    int lx = 0, ly = 0;
    wlr_scene_node_coords(&tree_->node, &lx, &ly);  // coordinates are valid while disabled too
    struct Gather {
        Region& extent;
        Region& opaque;
        int lx, ly;
    } gather{extent, opaque, lx, ly};
    // Surfaces, subsurfaces and popups, each with its position relative to the window.
    wlr_xdg_surface_for_each_surface(
        xdg_,
        [](wlr_surface* surface, int sx, int sy, void* data) {
            auto* g = static_cast<Gather*>(data);
            g->extent.add_rect(g->lx + sx, g->ly + sy, surface->current.width, surface->current.height);
            // wlroots sets opaque_region to the whole surface when its buffer's format has no
            // alpha (XRGB), else to the client's opaque region, clipped to the surface.
            g->opaque.add_translated(&surface->opaque_region, g->lx + sx, g->ly + sy);
        },
        &gather);
}

void Toplevel::fit_to_output()
{
    output_destroy_.disconnect();
    if (!output_)
        return;
    output_destroy_.connect(&output_->events.destroy, [this](void*) {
        output_destroy_.disconnect();
        output_ = nullptr;
    });
    // An output turned off is out of the layout: the window keeps its place until it is on.
    const wlr_box* box = wlr_output_layout_get_box(shell_.server().output_layout.get(), output_);
    if (!box)
        return;
    wlr_scene_node_set_position(&tree_->node, box->x, box->y);
    configure_size();
}

void Toplevel::configure_size()
{
    if (!output_)
        return;
    // Off (out of the layout): the size it was given stands until the output is on again.
    const wlr_box* layout_box = wlr_output_layout_get_box(shell_.server().output_layout.get(), output_);
    if (!layout_box)
        return;
    wlr_box box = *layout_box;
    // wlroots 0.15 copies the client's state to `current` only after the initial configure
    // was acked; during a commit, `pending` holds what the client just committed.
    const wlr_xdg_toplevel_state& state = xdg_->toplevel->pending;
    int32_t width = box.width, height = box.height;
    // A fixed-size client (max size set) gets its maximum, not a size it cannot honour.
    if (state.max_width > 0)
        width = std::min<int32_t>(width, static_cast<int32_t>(state.max_width));
    if (state.max_height > 0)
        height = std::min<int32_t>(height, static_cast<int32_t>(state.max_height));
    width = std::max<int32_t>(width, static_cast<int32_t>(state.min_width));
    height = std::max<int32_t>(height, static_cast<int32_t>(state.min_height));
    if (width == configured_width_ && height == configured_height_)
        return;
    configured_width_ = width;
    configured_height_ = height;
    wlr_xdg_toplevel_set_size(xdg_, width, height);
}

XdgShell::XdgShell(Server& server) : server_(server)
{
    shell_ = wlr_xdg_shell_create(server_.display.get());
    new_surface_.connect(&shell_->events.new_surface,
                         [this](void* data) { handle_new_surface(static_cast<wlr_xdg_surface*>(data)); });
    focus_requested_.connect(&server_.seat->events.focus_requested, [this](void* data) {
        if (Toplevel* toplevel = toplevel_of(static_cast<wlr_surface*>(data)); toplevel && toplevel != focused_)
            focus(toplevel);
    });
    before_render_.connect(&server_.before_render, [this](void*) { update_visibility(); });
}

void XdgShell::update_visibility()
{
    // Recomputed for every frame rather than tracked through every commit, size change and
    // restack that could change it: a few region operations per window, and nothing can be
    // missed. Only a change of verdict touches the scene.
    std::vector<Toplevel*> windows;
    for (auto it = toplevels_.rbegin(); it != toplevels_.rend(); ++it)
        if ((*it)->mapped())
            windows.push_back(it->get());
    std::vector<Region> extents(windows.size()), opaques(windows.size());
    std::vector<WindowRegions> regions;
    regions.reserve(windows.size());
    for (size_t i = 0; i < windows.size(); ++i) {
        windows[i]->gather_regions(extents[i], opaques[i]);
        regions.push_back({&extents[i], &opaques[i]});
    }
    std::vector<bool> covered = covered_windows(regions);
    for (size_t i = 0; i < windows.size(); ++i)
        windows[i]->set_covered(covered[i]);
}

XdgShell::~XdgShell() { toplevels_.clear(); }

void XdgShell::handle_new_surface(wlr_xdg_surface* xdg_surface)
{
    if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL)
        toplevels_.push_back(std::make_unique<Toplevel>(*this, xdg_surface));
    else if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_POPUP)
        place_popup(xdg_surface);
}

void XdgShell::place_popup(wlr_xdg_surface* popup)
{
    wlr_surface* parent_surface = popup->popup->parent;
    if (!parent_surface || !wlr_surface_is_xdg_surface(parent_surface))
        return;  // parented to something we do not show (no layer-shell here)
    wlr_xdg_surface* parent = wlr_xdg_surface_from_wlr_surface(parent_surface);
    auto* parent_node = static_cast<wlr_scene_node*>(parent->data);
    if (!parent_node)
        return;
    // The scene helper positions the popup from its xdg-positioner geometry, relative to the
    // parent; it is destroyed with the popup's xdg_surface.
    wlr_scene_node* node = wlr_scene_xdg_surface_create(parent_node, popup);
    popup->data = node;

    // Keep it on the toplevel's output: the constraint box is in toplevel-local coordinates.
    Toplevel* toplevel = toplevel_of(parent_surface);
    if (!toplevel)
        return;
    int lx = 0, ly = 0;
    wlr_scene_node_coords(&toplevel->tree()->node, &lx, &ly);
    wlr_output* output = wlr_output_layout_output_at(server_.output_layout.get(), lx, ly);
    if (!output)
        return;
    wlr_box box = *wlr_output_layout_get_box(server_.output_layout.get(), output);
    box.x -= lx;
    box.y -= ly;
    wlr_xdg_popup_unconstrain_from_box(popup->popup, &box);
}

Toplevel* XdgShell::toplevel_of(wlr_surface* surface) const
{
    if (!surface || !wlr_surface_is_xdg_surface(surface))
        return nullptr;
    wlr_xdg_surface* xdg = wlr_xdg_surface_from_wlr_surface(surface);
    while (xdg && xdg->role == WLR_XDG_SURFACE_ROLE_POPUP) {
        wlr_surface* parent = xdg->popup->parent;
        xdg = parent && wlr_surface_is_xdg_surface(parent) ? wlr_xdg_surface_from_wlr_surface(parent) : nullptr;
    }
    if (!xdg || xdg->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL)
        return nullptr;
    for (auto& t : toplevels_)
        if (t->xdg() == xdg)
            return t.get();
    return nullptr;
}

void XdgShell::focus(Toplevel* toplevel)
{
    if (!toplevel) {
        auto top = std::find_if(toplevels_.rbegin(), toplevels_.rend(), [](auto& t) { return t->mapped(); });
        toplevel = top == toplevels_.rend() ? nullptr : top->get();
    }
    if (focused_ && focused_ != toplevel)
        wlr_xdg_toplevel_set_activated(focused_->xdg(), false);
    focused_ = toplevel;
    if (!toplevel) {
        server_.seat->focus_keyboard(nullptr);
        return;
    }
    // Stacking: move it last in our list and topmost in the scene.
    auto it = std::find_if(toplevels_.begin(), toplevels_.end(), [&](auto& t) { return t.get() == toplevel; });
    std::rotate(it, it + 1, toplevels_.end());
    wlr_scene_node_raise_to_top(&toplevel->tree()->node);
    wlr_xdg_toplevel_set_activated(toplevel->xdg(), true);
    server_.seat->focus_keyboard(toplevel->xdg()->surface);
}

void XdgShell::handle_map(Toplevel* toplevel)
{
    toplevel->set_mapped(true);
    focus(toplevel);
    server_.seat->cursor().update_pointer_focus();
}

void XdgShell::handle_unmap(Toplevel* toplevel)
{
    toplevel->set_mapped(false);
    if (focused_ == toplevel) {
        focused_ = nullptr;
        focus(nullptr);
    }
    server_.seat->cursor().update_pointer_focus();
}

void XdgShell::handle_destroy(Toplevel* toplevel)
{
    if (focused_ == toplevel)
        focused_ = nullptr;
    std::erase_if(toplevels_, [&](auto& t) { return t.get() == toplevel; });
}

} // namespace syncway
