// The kernel's own view of a card's planes: DRM's debugfs atomic state
// (/sys/kernel/debug/dri/<minor>/state), joined with each plane's type from KMS.
#pragma once

#include <syncway/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncway::vm {

struct PlaneState {
    uint32_t id = 0;
    std::string type;       // primary, cursor, overlay
    std::string crtc;       // "(null)" when the plane is off
    uint32_t fb = 0;        // 0 when the plane carries no framebuffer
    std::string format;     // fourcc as the kernel prints it (AR24, XR24, ...)
    std::string fb_size;    // WxH of the framebuffer
    std::string allocated_by;  // the process name that created the framebuffer
    std::string crtc_pos;   // WxH+X+Y on the CRTC

    std::string describe() const;
};

// Parses the text of a debugfs state file (kept apart from I/O so it can be tested).
std::vector<PlaneState> parse_plane_states(const std::string& text);

// Reads the state of the card driven by `driver` and fills in plane types.
Result<std::vector<PlaneState>> read_plane_states(const std::string& driver);

// Re-reads the state every 50 ms until the first plane of `type` satisfies `condition`
// ("has-fb", "no-fb", "moved-from=X,Y": its crtc-pos is elsewhere, "fb-not=N") or `timeout_ms`
// passes; returns that plane's last state and whether the condition held. One process for
// the whole wait: under TCG every exec of a polling loop costs tens of milliseconds.
struct PlaneWait {
    PlaneState plane;
    bool met = false;
};
Result<PlaneWait> wait_for_plane(const std::string& driver, const std::string& type, const std::string& condition,
                                 int timeout_ms);

// The pixel at (x, y) of the framebuffer on DRIVER's first plane of `type`, as 0xAARRGGBB
// (32-bit formats only): GETFB2 gives a GEM handle of it to a CAP_SYS_ADMIN caller, which
// MAP_DUMB maps (an imported buffer, which MAP_DUMB refuses: its dma-buf, by PRIME export). With `expect`, re-reads every 50 ms until the pixel equals it or `timeout_ms`
// passes; `met` says which.
struct PlanePixel {
    PlaneState plane;
    uint32_t argb = 0;
    bool met = false;
};
Result<PlanePixel> read_plane_pixel(const std::string& driver, const std::string& type, int x, int y,
                                    std::optional<uint32_t> expect, int timeout_ms);

// The memory of the framebuffer on DRIVER's first plane of `type`: "exporter=E name=N size=WxH",
// E and N the dma-buf's exporter and DMA_BUF_SET_NAME name (fdinfo) after PRIME export of the
// GEM handle GETFB2 gives: a dma-buf heap's name (e.g. system) for a framebuffer imported from
// one, the DRM core's "drm" for the device's own buffers.
struct PlaneMemory {
    PlaneState plane;
    std::string memory;
};
Result<PlaneMemory> read_plane_memory(const std::string& driver, const std::string& type);

} // namespace syncway::vm
