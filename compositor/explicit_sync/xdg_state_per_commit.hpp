// xdg-shell state per commit, for commits that wait (held for an acquire point or a dma-buf's
// writers, or queued behind one that is).
//
// xdg-shell's double-buffered state (the window geometry; the configure a commit acknowledges,
// with the toplevel state it brings: size, maximized, activated, ...) takes effect with the
// wl_surface.commit that follows the requests. wlroots 0.15 keeps that state outside the
// wl_surface's cached states: the requests write one pending copy (wlr_xdg_surface.pending,
// wlr_xdg_toplevel.pending), and xdg-shell's role commit copies it to current whenever any
// state of the surface applies (handle_xdg_surface_commit in wlr_xdg_surface.c). So a commit
// that waits would apply with whatever the client sent after it: a held frame shown at the next
// frame's window geometry (its content shifted), or with a configure it had not acknowledged.
//
// Here, at the commit gate, a commit that will be cached takes a copy of that pending state.
// Just before wlroots applies a cached state, the copy taken with it stands in wlroots' pending
// slot, and the client's own pending state is put back as soon as wlroots is done. wlroots
// applies cached states in two ways, both covered: when the hold blocking the oldest one ends
// (CommitGate::release, whose hook runs around it), and then one after another in the same call
// while the following ones are not held (our commit listener runs after each applies and before
// the next does, and puts the next one's copy in place).
#pragma once

#include "../commit_gate.hpp"

#include <unordered_set>

namespace syncway {

class XdgStatePerCommit {
public:
    explicit XdgStatePerCommit(CommitGate& gate);
    ~XdgStatePerCommit();
    XdgStatePerCommit(const XdgStatePerCommit&) = delete;
    XdgStatePerCommit& operator=(const XdgStatePerCommit&) = delete;

private:
    class SurfaceStates;
    void check_commit(Commit& commit);

    CommitGate& gate_;
    std::unordered_set<SurfaceStates*> surfaces_;
};

} // namespace syncway
