// xdg-shell (xdg_wm_base v3 in wlroots 0.15): toplevels fill the output they open on, the
// newest is on top and focused; popups are placed by xdg-positioner and kept on the output.
#pragma once

#include "../listener.hpp"
#include "../occlusion.hpp"
#include "../wlr.hpp"

#include <memory>
#include <vector>

namespace syncway {

class Server;
class XdgShell;

class Toplevel {
public:
    Toplevel(XdgShell& shell, wlr_xdg_surface* xdg_surface);
    ~Toplevel();
    Toplevel(const Toplevel&) = delete;

    wlr_xdg_surface* xdg() const { return xdg_; }
    wlr_scene_tree* tree() const { return tree_; }
    bool mapped() const { return mapped_; }
    void set_mapped(bool mapped);
    // Covered entirely by opaque windows above it (compositor/occlusion.hpp): its scene node is
    // disabled, so it is not composited, its commits damage nothing and its surfaces get no
    // frame callbacks until it is uncovered.
    bool covered() const { return covered_; }
    void set_covered(bool covered);
    // What it may draw and what of that is opaque, in layout coordinates.
    void gather_regions(Region& extent, Region& opaque) const;
    // Sizes it to its output and moves it there.
    void fit_to_output();
    // Asks for the output's size, within the client's min/max size; configures only on change.
    void configure_size();

private:
    XdgShell& shell_;
    wlr_xdg_surface* xdg_;
    wlr_scene_tree* tree_;
    wlr_output* output_ = nullptr;
    bool mapped_ = false;
    bool covered_ = false;
    int32_t configured_width_ = -1, configured_height_ = -1;
    Listener map_;
    Listener unmap_;
    Listener destroy_;
    Listener request_maximize_;
    Listener request_fullscreen_;
    Listener output_destroy_;
    Listener commit_;
};

class XdgShell {
public:
    explicit XdgShell(Server& server);
    ~XdgShell();
    XdgShell(const XdgShell&) = delete;

    Server& server() { return server_; }
    // Raises it and gives it the keyboard (nullptr: the topmost mapped toplevel, if any).
    void focus(Toplevel* toplevel);
    void handle_map(Toplevel* toplevel);
    void handle_unmap(Toplevel* toplevel);
    void handle_destroy(Toplevel* toplevel);
    // Before each frame: disables the scene nodes of windows nothing of which can be seen.
    void update_visibility();

private:
    void handle_new_surface(wlr_xdg_surface* xdg_surface);
    void place_popup(wlr_xdg_surface* popup);
    Toplevel* toplevel_of(wlr_surface* surface) const;

    Server& server_;
    wlr_xdg_shell* shell_;
    std::vector<std::unique_ptr<Toplevel>> toplevels_;  // stacking order, topmost last
    Toplevel* focused_ = nullptr;
    Listener new_surface_;
    Listener focus_requested_;
    Listener before_render_;
};

} // namespace syncway
