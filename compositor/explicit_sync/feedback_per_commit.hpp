// wp_presentation feedback per commit, for commits that wait (held for an acquire point or a
// dma-buf's writers, or queued behind one that is).
//
// wlroots 0.15 keeps one pending feedback group per surface, moved to "current" whenever any
// state of the surface is applied (its surface_commit listener in wlr_presentation_time.c). With
// held commits that merges feedback: what a client requested with commit 1 (held) and commit 2
// (sent meanwhile) is one group, reported for whichever state applies first, or discarded when
// the next applies. So at the commit gate, a commit that will be cached takes its own group out of
// wlroots' pending slot, and when that very state is applied the group is put in wlroots' current
// slot, where the scene reports it for the frame that shows the state (or discards it when a
// later state replaces it unseen).
//
// wlroots 0.15 does not expose its per-surface presentation state (struct
// wlr_presentation_surface is private to wlr_presentation_time.c); feedback_per_commit.cpp mirrors
// its layout, which meson pins by accepting wlroots 0.15.x only.
#pragma once

#include "../commit_gate.hpp"
#include "../listener.hpp"

#include <unordered_set>

namespace syncway {

struct Wlr015PresentationSurface;

class FeedbackPerCommit {
public:
    FeedbackPerCommit(CommitGate& gate, wlr_presentation* presentation);
    ~FeedbackPerCommit();
    FeedbackPerCommit(const FeedbackPerCommit&) = delete;
    FeedbackPerCommit& operator=(const FeedbackPerCommit&) = delete;

private:
    class SurfaceFeedback;
    void check_commit(Commit& commit);
    // wlroots' presentation state of `surface`; null when it has none (no feedback requested
    // yet) or its layout is not the one we mirror.
    Wlr015PresentationSurface* presentation_state(wlr_surface* surface);

    CommitGate& gate_;
    wlr_presentation* presentation_;
    std::unordered_set<SurfaceFeedback*> surfaces_;
    bool layout_warned_ = false;
};

} // namespace syncway
