#include "xdg_state_per_commit.hpp"

#include "../addon.hpp"
#include "../listener.hpp"

#include <map>
#include <optional>

namespace syncway {

namespace {

// What xdg-shell's role commit copies from pending to current.
struct XdgPending {
    wlr_xdg_surface_role role = WLR_XDG_SURFACE_ROLE_NONE;
    wlr_xdg_surface_state surface{};
    wlr_xdg_toplevel_state toplevel{};
};

// The xdg_surface of `surface`, looked up each time: the client may destroy its xdg-shell
// objects while the wl_surface (and its cached states) lives on.
wlr_xdg_surface* xdg_of(wlr_surface* surface)
{
    if (!wlr_surface_is_xdg_surface(surface))
        return nullptr;
    wlr_xdg_surface* xdg = wlr_xdg_surface_from_wlr_surface(surface);
    return xdg && xdg->role != WLR_XDG_SURFACE_ROLE_NONE ? xdg : nullptr;
}

std::optional<XdgPending> read_pending(wlr_surface* surface)
{
    wlr_xdg_surface* xdg = xdg_of(surface);
    if (!xdg)
        return std::nullopt;
    XdgPending state;
    state.role = xdg->role;
    state.surface = xdg->pending;
    if (xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL && xdg->toplevel)
        state.toplevel = xdg->toplevel->pending;
    return state;
}

void write_pending(wlr_surface* surface, const XdgPending& state)
{
    wlr_xdg_surface* xdg = xdg_of(surface);
    if (!xdg || xdg->role != state.role)
        return;  // a different role object since the copy was taken: nothing of it applies
    xdg->pending = state.surface;
    if (xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL && xdg->toplevel)
        xdg->toplevel->pending = state.toplevel;
}

// Sequence numbers wrap: a is before b.
bool before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

} // namespace

// The copies taken with one surface's cached commits, by state sequence number, until each
// state applies. A wlr_addon on the wl_surface; ends when it holds nothing or the surface goes.
class XdgStatePerCommit::SurfaceStates : public Addon<SurfaceStates> {
public:
    static constexpr const char* kAddonName = "syncway-xdg-state-per-commit";
    SurfaceStates(XdgStatePerCommit& owner, wlr_surface* surface)
        : Addon(surface->addons, &owner), owner_(owner), surface_(surface)
    {
        owner_.surfaces_.insert(this);
        applied_.connect(&surface_->events.commit, [this](void*) { applied(); });
    }
    static SurfaceStates* find(XdgStatePerCommit& owner, wlr_surface* surface)
    {
        return Addon::find(surface->addons, &owner);
    }

    void take(uint32_t seq, const XdgPending& state) { copies_[seq] = state; }

    // wlroots is about to apply the cached state `seq` (the oldest).
    void before_apply(uint32_t seq)
    {
        auto it = copies_.find(seq);
        if (it == copies_.end())
            return;
        if (!live_)
            live_ = read_pending(surface_);
        write_pending(surface_, it->second);
    }
    // wlroots is done applying: the client's own pending state is back.
    void done()
    {
        if (live_)
            write_pending(surface_, *std::exchange(live_, std::nullopt));
        if (copies_.empty())
            end();
    }

    // The one way it ends: nothing left, the surface gone, or syncway shutting down.
    void end()
    {
        owner_.surfaces_.erase(this);
        delete this;
    }
    void addon_destroyed()
    {
        live_.reset();  // the surface is going: nothing to put back
        end();
    }

private:
    ~SurfaceStates() = default;

    // A state applied (xdg-shell's role commit has read the pending slot). If wlroots goes on
    // to apply the next cached state in the same call (nothing holds it), that state's copy
    // must stand in the pending slot now; otherwise the client's own state goes back.
    void applied()
    {
        uint32_t seq = surface_->current.seq;
        for (auto it = copies_.begin(); it != copies_.end();)
            it = before(seq, it->first) ? std::next(it) : copies_.erase(it);
        // While wlroots applies a cached state it is still first in the list.
        wlr_surface_state* next = nullptr;
        if (!wl_list_empty(&surface_->cached)) {
            wlr_surface_state* first = wl_container_of(surface_->cached.next, first, cached_state_link);
            if (first->seq != seq)
                next = first;
            else if (first->cached_state_link.next != &surface_->cached)
                next = wl_container_of(first->cached_state_link.next, next, cached_state_link);
        }
        if (next && next->cached_state_locks == 0)
            before_apply(next->seq);
        else
            done();
    }

    XdgStatePerCommit& owner_;
    wlr_surface* surface_;
    Listener applied_;
    std::map<uint32_t, XdgPending> copies_;
    std::optional<XdgPending> live_;  // the client's pending state while a copy stands in for it
};

XdgStatePerCommit::XdgStatePerCommit(CommitGate& gate) : gate_(gate)
{
    gate_.set(CommitGate::Stage::XdgState, [this](Commit& commit) { check_commit(commit); });
    gate_.set_release_hook({
        [this](wlr_surface* surface, uint32_t seq) {
            SurfaceStates* states = SurfaceStates::find(*this, surface);
            if (!states || wl_list_empty(&surface->cached))
                return;
            // wlroots applies on this release only if `seq` is the oldest cached state and this
            // is its last hold.
            wlr_surface_state* first = wl_container_of(surface->cached.next, first, cached_state_link);
            if (first->seq == seq && first->cached_state_locks == 1)
                states->before_apply(seq);
        },
        [this](wlr_surface* surface) {
            if (SurfaceStates* states = SurfaceStates::find(*this, surface))
                states->done();
        },
    });
}

XdgStatePerCommit::~XdgStatePerCommit()
{
    gate_.set(CommitGate::Stage::XdgState, {});
    gate_.set_release_hook({});
    while (!surfaces_.empty())
        (*surfaces_.begin())->end();
}

void XdgStatePerCommit::check_commit(Commit& commit)
{
    wlr_surface* surface = commit.surface();
    // Cached rather than applied: held by a stage before this one, or behind a held state.
    // (xdg-shell surfaces are never subsurfaces, whose synchronized commits are cached too.)
    if (surface->pending.cached_state_locks == 0 && wl_list_empty(&surface->cached))
        return;
    std::optional<XdgPending> state = read_pending(surface);
    if (!state)
        return;
    SurfaceStates* states = SurfaceStates::find(*this, surface);
    if (!states)
        states = new SurfaceStates(*this, surface);
    states->take(commit.pending().seq, *state);
}

} // namespace syncway
