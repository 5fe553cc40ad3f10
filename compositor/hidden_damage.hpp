// A commit whose changed area lies under opaque surfaces above it changes nothing on screen,
// yet wlroots 0.15's scene adds the whole of its damage to every output, which then renders a
// frame identical to the last. Before the scene hears of a commit, this takes the hidden part
// out of the surface's damage: all of it when nothing of the change can be seen (then no frame
// is rendered for it), or the covered rectangles when the surface's buffer maps 1:1 onto it.
//
// It runs first because it joins each wl_surface's commit signal when the surface is created,
// before wlroots' scene joins it (when the surface gets a role and a scene node). What it
// edits, wlr_surface::buffer_damage, is rebuilt by wlroots for every commit and read after the
// commit signal by no one: the texture was already updated from the client's full damage.
#pragma once

#include "listener.hpp"
#include "scene_render.hpp"
#include "wlr.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

namespace syncway {

class Server;

class HiddenDamage {
public:
    explicit HiddenDamage(Server& server);
    HiddenDamage(const HiddenDamage&) = delete;

private:
    struct Tap {
        Listener commit;
        Listener destroy;
    };
    void on_commit(wlr_surface* surface);

    wlr_scene* scene_;
    std::unordered_map<wlr_surface*, std::unique_ptr<Tap>> taps_;  // one per live wl_surface
    std::vector<SceneItem> items_;
    Listener new_surface_;
};

} // namespace syncway
