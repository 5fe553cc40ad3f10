// Whether a gles2 renderer draws with Mesa's software rasterizer behind a real DRM device
// (kms_swrast: llvmpipe rendering into dumb buffers, as on virtio-gpu without virgl). wlroots
// refuses software GL only when EGL reports a software *device*, which that case is not.
#pragma once

#include "wlr.hpp"

#include <string>

namespace syncway {

// The EGL display's driver name (EGL_MESA_query_driver), e.g. "kms_swrast", "virtio_gpu",
// "iris"; empty when the renderer is not gles2 or the driver does not say.
std::string gl_driver_name(wlr_renderer* renderer);

// kms_swrast and swrast are Mesa's software drivers.
bool is_software_gl_driver(const std::string& driver);

} // namespace syncway
