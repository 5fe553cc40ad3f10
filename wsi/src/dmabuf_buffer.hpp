// A wl_buffer for a single-plane LINEAR dma-buf, made through zwp_linux_dmabuf_v1.
#pragma once

#include <wayland-client.h>

#include <cstdint>
#include <string>

namespace syncway::wsi {

class WaylandConnection;

struct DmabufPlane {
    int fd;          // dup'ed by libwayland when sent: the caller keeps its own
    uint32_t offset; // of the first row
    uint32_t stride; // bytes from one row to the next
};

// Asks the compositor to import the buffer and waits (on the layer's queue, up to 5 s) for its
// answer: `create`, not `create_immed`, because a refused create_immed is a protocol error that
// would end the application's connection, while a refused create is an event the layer can
// answer by falling back to wl_shm. Null with *error saying why when refused, on timeout, or
// (*lost set) when the connection failed.
wl_buffer* create_dmabuf_buffer(WaylandConnection& connection, const DmabufPlane& plane, uint32_t width,
                                uint32_t height, uint32_t drm_format, std::string* error, bool* lost);

} // namespace syncway::wsi
