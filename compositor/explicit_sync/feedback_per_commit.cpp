#include "feedback_per_commit.hpp"

#include "../addon.hpp"

#include <cstddef>
#include <cstring>
#include <map>
#include <utility>

namespace syncway {

// wlroots 0.15.1's struct wlr_presentation_surface (types/wlr_presentation_time.c), found
// through its addon on the wlr_surface (owner: the wlr_presentation, interface name below).
struct Wlr015PresentationSurface {
    struct {
        wlr_presentation_feedback* feedback;
    } current, pending;
    wlr_addon addon;
    wl_listener surface_commit;
};

namespace {

constexpr const char* kPresentationAddonName = "wlr_presentation_surface";

// Whether `listener` is one of `signal`'s.
bool listens(wl_signal& signal, wl_listener* listener)
{
    wl_listener* l;
    wl_list_for_each(l, &signal.listener_list, link)
        if (l == listener)
            return true;
    return false;
}

} // namespace

Wlr015PresentationSurface* FeedbackPerCommit::presentation_state(wlr_surface* surface)
{
    wlr_addon* addon;
    wl_list_for_each(addon, &surface->addons.addons, link) {
        if (addon->owner != presentation_ || std::strcmp(addon->impl->name, kPresentationAddonName) != 0)
            continue;
        auto* p = reinterpret_cast<Wlr015PresentationSurface*>(reinterpret_cast<char*>(addon) -
                                                               offsetof(Wlr015PresentationSurface, addon));
        // The mirrored layout checked against the live object: its commit listener must be the
        // one wlroots put on this surface. A wlroots laid out differently gets its own merged
        // feedback rather than a corrupted one.
        if (listens(surface->events.commit, &p->surface_commit))
            return p;
        if (!std::exchange(layout_warned_, true))
            wlr_log(WLR_ERROR, "wp_presentation: wlroots' per-surface state is not laid out as in 0.15.1; "
                               "feedback of held commits is merged as wlroots does");
        return nullptr;
    }
    return nullptr;
}

// The feedback groups taken from one surface's commits, by state sequence number, until each
// state applies. A wlr_addon on the surface; ends when it holds nothing or the surface goes.
class FeedbackPerCommit::SurfaceFeedback : public Addon<SurfaceFeedback> {
public:
    static constexpr const char* kAddonName = "syncway-feedback-per-commit";
    SurfaceFeedback(FeedbackPerCommit& owner, wlr_surface* surface)
        : Addon(surface->addons, &owner), owner_(owner), surface_(surface)
    {
        owner_.surfaces_.insert(this);
    }
    static SurfaceFeedback* find(FeedbackPerCommit& owner, wlr_surface* surface)
    {
        return Addon::find(surface->addons, &owner);
    }

    // The state `seq` about to be cached takes the group wlroots has pending (may be none).
    void take(uint32_t seq, Wlr015PresentationSurface* p)
    {
        groups_[seq] = p->pending.feedback;
        p->pending.feedback = nullptr;
        // Ours must run after wlroots' own commit listener, which moves pending to current:
        // joining again puts us last.
        applied_.connect(&surface_->events.commit, [this](void*) { applied(); });
    }

    // The one way it ends: nothing left to hold, the surface gone, or syncway shutting down.
    void end()
    {
        for (auto& [seq, group] : groups_)
            wlr_presentation_feedback_destroy(group);  // discarded: never shown
        owner_.surfaces_.erase(this);
        delete this;
    }
    void addon_destroyed() { end(); }

private:
    ~SurfaceFeedback() = default;

    // A state applied; wlroots has just made its pending group current. That group was
    // requested after the last cached commit (for a commit not sent yet): it goes back to
    // pending, and the applied state's own group becomes current.
    void applied()
    {
        uint32_t seq = surface_->current.seq;
        auto it = groups_.find(seq);
        if (it == groups_.end())
            return;
        Wlr015PresentationSurface* p = owner_.presentation_state(surface_);
        wlr_presentation_feedback* own = it->second;
        groups_.erase(it);
        // Groups of older states never applied alone (replaced before they could show).
        for (auto older = groups_.begin(); older != groups_.end();) {
            if (static_cast<int32_t>(older->first - seq) < 0) {
                wlr_presentation_feedback_destroy(older->second);
                older = groups_.erase(older);
            } else {
                ++older;
            }
        }
        if (p) {
            if (!p->pending.feedback)
                p->pending.feedback = p->current.feedback;
            else
                wlr_presentation_feedback_destroy(p->current.feedback);
            p->current.feedback = own;
        } else {
            wlr_presentation_feedback_destroy(own);
        }
        if (groups_.empty())
            end();
    }

    FeedbackPerCommit& owner_;
    wlr_surface* surface_;
    Listener applied_;
    std::map<uint32_t, wlr_presentation_feedback*> groups_;
};

FeedbackPerCommit::FeedbackPerCommit(CommitGate& gate, wlr_presentation* presentation)
    : gate_(gate), presentation_(presentation)
{
    gate_.set(CommitGate::Stage::PerCommitState, [this](Commit& commit) { check_commit(commit); });
}

FeedbackPerCommit::~FeedbackPerCommit()
{
    gate_.set(CommitGate::Stage::PerCommitState, {});
    while (!surfaces_.empty())
        (*surfaces_.begin())->end();
}

void FeedbackPerCommit::check_commit(Commit& commit)
{
    wlr_surface* surface = commit.surface();
    // Cached rather than applied: held by a stage before this one, behind a held state, or a
    // synchronized subsurface's (wlroots caches those right after this gate).
    bool cached = commit.cached();
    SurfaceFeedback* feedback = SurfaceFeedback::find(*this, surface);
    if (!cached && !feedback)
        return;
    Wlr015PresentationSurface* p = presentation_state(surface);
    if (!p)
        return;  // no feedback ever requested for this surface
    if (!feedback)
        feedback = new SurfaceFeedback(*this, surface);
    feedback->take(commit.pending().seq, p);
}

} // namespace syncway
