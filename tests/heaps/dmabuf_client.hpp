// A Wayland client for the heaps suite: one xdg toplevel whose buffers are linux-dmabuf
// wl_buffers made from heaps/ allocations (or wl_shm, for comparison), and the raw
// zwp_linux_buffer_params_v1 requests the bad-import tests need.
#pragma once

#include "syncway/heaps/allocator.hpp"
#include "syncway/heaps/buffer_layout.hpp"
#include "syncway/testing/core_globals.hpp"
#include "syncway/testing/toplevel.hpp"

#include <wayland-client.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct zwp_linux_dmabuf_v1;
struct zwp_linux_buffer_params_v1;

namespace syncway::heaps::test {

struct FormatModifier {
    uint32_t format;
    uint64_t modifier;
};

// One plane as given to zwp_linux_buffer_params_v1.add.
struct PlaneSpec {
    int fd;
    uint32_t plane_idx = 0;
    uint32_t offset = 0;
    uint32_t stride = 0;
    uint64_t modifier = 0; // LINEAR
};

class DmabufClient {
public:
    // Connects to $WAYLAND_DISPLAY; check error() afterwards.
    DmabufClient();
    ~DmabufClient();
    DmabufClient(const DmabufClient&) = delete;
    DmabufClient& operator=(const DmabufClient&) = delete;

    const std::string& error() const { return error_; }
    uint32_t dmabuf_version() const { return dmabuf_version_; }
    const std::vector<FormatModifier>& advertised() const { return advertised_; }
    wl_display* display() const { return display_; }

    // Creates the toplevel and waits for its first configure.
    bool map_window();
    // The size the compositor's toplevel configure asked for (0: the client chooses).
    int32_t configured_width() const { return window_ ? window_->width() : 0; }
    int32_t configured_height() const { return window_ ? window_->height() : 0; }

    // zwp_linux_buffer_params_v1 with these planes, then create_immed (immediate) or create
    // (waits for created/failed). Returns the wl_buffer, or nullptr with `failed` set when the
    // compositor answered `failed`, or nullptr when the connection died (see protocol_error()).
    wl_buffer* create_buffer(const std::vector<PlaneSpec>& planes, int32_t width, int32_t height, uint32_t format,
                             bool immediate, bool* failed = nullptr, uint32_t flags = 0);
    // Runs `steps` on a fresh params object (for add/create sequences that must fail).
    zwp_linux_buffer_params_v1* create_params();

    // wl_shm buffer over a memfd (the wl_shm baseline); the fd stays the caller's.
    wl_buffer* create_shm_buffer(int fd, uint32_t size, int32_t width, int32_t height, uint32_t stride,
                                 uint32_t wl_shm_format);

    // attach + damage + frame callback + commit; with wait, returns once the frame callback
    // fired (the compositor drew the frame), false on timeout or a dead connection.
    bool present(wl_buffer* buffer, bool wait = true, int timeout_ms = 5000);
    // A bare wl_surface.commit of the window (nothing attached, no frame callback).
    bool commit();
    // After present(wait=false): waits for that frame callback.
    bool wait_frame(int timeout_ms);
    bool frame_done() const { return frame_done_; }

    // Round trip; false when the connection died.
    bool roundtrip();
    // The protocol error that ended the connection: code, or -1 if none. `interface` names
    // the object's interface.
    int protocol_error(std::string* interface = nullptr) const;

private:
    friend struct Listeners;
    bool dispatch_until(const bool& flag, int timeout_ms);

    std::string error_;
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    // Freed before the connection closes (a proxy cannot outlive its display).
    std::unique_ptr<testing::CoreGlobals> core_ = std::make_unique<testing::CoreGlobals>();
    zwp_linux_dmabuf_v1* dmabuf_ = nullptr;
    uint32_t dmabuf_version_ = 0;
    std::vector<FormatModifier> advertised_;
    std::unique_ptr<testing::Toplevel> window_;
    bool frame_done_ = false;
    wl_callback* frame_ = nullptr;
    // create(): the answer; buffers the compositor created that no caller took are destroyed
    // with the client (e.g. a create that precedes a protocol error)
    bool answered_ = false;
    std::vector<wl_buffer*> created_;
};

// Fills a mapped buffer with four quadrants (red, green, blue, white) in `format`.
void fill_quadrants(void* pixels, const FormatInfo& format, uint32_t width, uint32_t height, uint32_t stride);
// The colour fill_quadrants puts at (x, y), as 0xRRGGBB.
uint32_t quadrant_colour(uint32_t x, uint32_t y, uint32_t width, uint32_t height);

} // namespace syncway::heaps::test
