// Picks and creates the wlroots backend for --backend, and creates outputs for --output.
#pragma once

#include "options.hpp"
#include "wlr_ptr.hpp"

#include <syncway/result.hpp>

namespace syncway {

struct Backend {
    BackendKind kind = BackendKind::Headless;  // what `auto` resolved to
    SessionPtr session;                        // drm only; destroyed after the backend
    BackendPtr backend;

    Backend() = default;
    Backend(Backend&&) = default;
    Backend& operator=(Backend&&) = default;
    ~Backend() { backend.reset(); }  // backend before session: DRM devices belong to it
};

// Errors name the backend and the reason (e.g. "drm backend: no DRM card (/dev/dri/card*)").
// `env`: the parent display to nest in (auto picks nested when there is one).
Result<Backend> create_backend(wl_display* display, BackendKind requested, const Environment& env);

// Asks the started backend for one output per spec (headless: virtual; nested: a window each).
// DRM outputs come from connectors and ignore the specs. Returns false naming what failed.
Status request_outputs(Backend& backend, const std::vector<OutputSpec>& specs);

} // namespace syncway
