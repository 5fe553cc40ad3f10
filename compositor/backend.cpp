#include "backend.hpp"

#include <glob.h>

#include <string>

namespace syncway {
namespace {

bool drm_card_exists()
{
    glob_t g{};
    bool found = ::glob("/dev/dri/card[0-9]*", 0, nullptr, &g) == 0 && g.gl_pathc > 0;
    ::globfree(&g);
    return found;
}

Error backend_error(BackendKind kind, const std::string& reason)
{
    return make_error(EIO, std::string(backend_name(kind)) + " backend: " + reason);
}

Result<Backend> create_drm(wl_display* display)
{
    if (!drm_card_exists())
        return backend_error(BackendKind::Drm, "no DRM card found (/dev/dri/card* does not exist)");
    Backend result;
    result.kind = BackendKind::Drm;
    result.session.reset(wlr_session_create(display));
    if (!result.session)
        return backend_error(BackendKind::Drm,
                             "could not open a seat session through libseat (run seatd, use "
                             "logind, or LIBSEAT_BACKEND=builtin as root); see the log above");
    wlr_device* gpus[8];
    ssize_t count = wlr_session_find_gpus(result.session.get(), 8, gpus);
    if (count <= 0)
        return backend_error(BackendKind::Drm, "the seat session found no usable GPU");

    result.backend.reset(wlr_multi_backend_create(display));
    if (!result.backend)
        return backend_error(BackendKind::Drm, "could not create the multi-backend");
    // Keyboards and mice come from libinput on the same seat; without it there is no input.
    if (wlr_backend* input = wlr_libinput_backend_create(display, result.session.get()))
        wlr_multi_backend_add(result.backend.get(), input);
    else
        wlr_log(WLR_ERROR, "drm backend: libinput unavailable, no input devices");
    wlr_backend* primary = nullptr;
    for (ssize_t i = 0; i < count; ++i) {
        wlr_backend* drm = wlr_drm_backend_create(display, result.session.get(), gpus[i], primary);
        if (!drm) {
            wlr_log(WLR_ERROR, "drm backend: GPU %zd could not be used", i);
            continue;
        }
        primary = primary ? primary : drm;
        wlr_multi_backend_add(result.backend.get(), drm);
    }
    if (!primary)
        return backend_error(BackendKind::Drm, "no GPU could be opened as a DRM device");
    return result;
}

} // namespace

Result<Backend> create_backend(wl_display* display, BackendKind requested, const Environment& env)
{
    bool parent_wayland = !env.wayland_display.empty() || env.wayland_socket;
    BackendKind kind = requested;
    if (kind == BackendKind::Auto) {
        if (parent_wayland)
            kind = BackendKind::Wayland;
        else if (!env.x_display.empty())
            kind = BackendKind::X11;
        else if (drm_card_exists()) {
            auto drm = create_drm(display);
            if (drm)
                return drm;
            wlr_log(WLR_INFO, "auto: %s; falling back to headless", drm.error().message.c_str());
            kind = BackendKind::Headless;
        } else
            kind = BackendKind::Headless;
        wlr_log(WLR_INFO, "auto: using the %s backend", std::string(backend_name(kind)).c_str());
    }

    Backend result;
    result.kind = kind;
    switch (kind) {
    case BackendKind::Headless:
        result.backend.reset(wlr_headless_backend_create(display));
        if (!result.backend)
            return backend_error(kind, "wlr_headless_backend_create failed (see the log above)");
        break;
    case BackendKind::Wayland:
        if (!parent_wayland)
            return backend_error(kind, "WAYLAND_DISPLAY is not set: no parent compositor to nest in");
        result.backend.reset(wlr_wl_backend_create(display, nullptr));
        if (!result.backend)
            return backend_error(kind, "cannot connect to the parent compositor at WAYLAND_DISPLAY='" +
                                           env.wayland_display +
                                           "' (or it lacks xdg_wm_base/wl_compositor)");
        break;
    case BackendKind::X11:
        if (env.x_display.empty())
            return backend_error(kind, "DISPLAY is not set: no X server to nest in");
        result.backend.reset(wlr_x11_backend_create(display, nullptr));
        if (!result.backend)
            return backend_error(kind, "cannot connect to the X server at DISPLAY='" +
                                           env.x_display +
                                           "' (or it lacks DRI3/Present; see the log above)");
        break;
    case BackendKind::Drm:
        return create_drm(display);
    case BackendKind::Auto:
        break;
    }
    return result;
}

Status request_outputs(Backend& backend, const std::vector<OutputSpec>& specs)
{
    for (const OutputSpec& spec : specs) {
        wlr_output* output = nullptr;
        switch (backend.kind) {
        case BackendKind::Headless:
            output = wlr_headless_add_output(backend.backend.get(), spec.width, spec.height);
            break;
        case BackendKind::Wayland:
            output = wlr_wl_output_create(backend.backend.get());
            break;
        case BackendKind::X11:
            output = wlr_x11_output_create(backend.backend.get());
            break;
        case BackendKind::Drm:
        case BackendKind::Auto:
            return Ok{};
        }
        if (!output)
            return backend_error(backend.kind, "could not create an output");
    }
    return Ok{};
}

} // namespace syncway
