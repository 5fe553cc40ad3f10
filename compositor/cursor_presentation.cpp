#include "cursor_presentation.hpp"

#include <algorithm>

namespace syncway {

CursorPresentation::CursorPresentation(wlr_presentation* const& presentation,
                                       std::function<wlr_surface*(wlr_output*)> shown_on)
    : presentation_(presentation), shown_on_(std::move(shown_on))
{
}

CursorPresentation::~CursorPresentation() = default;

void CursorPresentation::follow(wlr_output* output)
{
    std::erase_if(outputs_, [](auto& f) { return f->output == nullptr; });
    if (std::ranges::any_of(outputs_, [&](auto& f) { return f->output == output; }))
        return;
    auto followed = std::make_unique<Followed>();
    Followed* f = followed.get();
    f->output = output;
    f->precommit.connect(&output->events.precommit, [this, output](void*) {
        // Commits without a buffer (mode changes, enabling) show no new cursor image, and
        // only buffer commits are sure to be presented.
        if (!(output->pending.committed & WLR_OUTPUT_STATE_BUFFER) || !presentation_)
            return;
        if (wlr_surface* surface = shown_on_(output))
            // Hands the surface's feedback, if it asked for one, to this commit's present event.
            wlr_presentation_surface_sampled_on_output(presentation_, surface, output);
    });
    f->destroy.connect(&output->events.destroy, [f](void*) {
        // Dropped at the next follow(): a listener cannot free itself while it runs.
        f->precommit.disconnect();
        f->destroy.disconnect();
        f->output = nullptr;
    });
    outputs_.push_back(std::move(followed));
}

} // namespace syncway
