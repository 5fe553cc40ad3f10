#include "software_gl.hpp"

namespace syncway {

std::string gl_driver_name(wlr_renderer* renderer)
{
    if (!renderer || !wlr_renderer_is_gles2(renderer))
        return {};
    wlr_egl* egl = wlr_gles2_renderer_get_egl(renderer);
    // An extension entry point: looked up, never linked, so an EGL without it just says nothing.
    auto driver_name =
        reinterpret_cast<PFNEGLGETDISPLAYDRIVERNAMEPROC>(eglGetProcAddress("eglGetDisplayDriverName"));
    if (!egl || !driver_name)
        return {};
    const char* name = driver_name(egl->display);
    return name ? name : "";
}

bool is_software_gl_driver(const std::string& driver) { return driver == "kms_swrast" || driver == "swrast"; }

} // namespace syncway
