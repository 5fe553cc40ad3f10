// wp_presentation feedback for a client's cursor surface. The scene reports feedback for the
// surfaces it draws; a cursor surface is drawn outside it (wlroots' software cursor, or a
// cursor plane), and its feedback used to be discarded at its next commit: a client could not
// learn when its cursor image reached the screen.
//
// An applied commit of the cursor surface is first shown by the next buffer commit of the
// output the cursor is on: a software cursor is rendered into that frame, and a cursor-plane
// update (set when the surface committed) goes to the screen with that flip. So that output
// commit samples the surface, and its present event is what the client hears, with that
// output. An image replaced before any output showed it is discarded, as the protocol says.
#pragma once

#include "listener.hpp"
#include "wlr.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace syncway {

class CursorPresentation {
public:
    // shown_on(output): the client cursor surface this output shows (where the cursor is),
    // or nullptr (an xcursor image, a hidden pointer, the cursor on another output).
    // presentation: wlroots' wp_presentation, read when a commit samples (may be null).
    CursorPresentation(wlr_presentation* const& presentation, std::function<wlr_surface*(wlr_output*)> shown_on);
    ~CursorPresentation();
    CursorPresentation(const CursorPresentation&) = delete;

    // Follows this output's buffer commits until it is destroyed (again: no effect).
    void follow(wlr_output* output);

private:
    struct Followed {
        wlr_output* output;
        Listener precommit;
        Listener destroy;
    };

    wlr_presentation* const& presentation_;
    std::function<wlr_surface*(wlr_output*)> shown_on_;
    std::vector<std::unique_ptr<Followed>> outputs_;
};

} // namespace syncway
