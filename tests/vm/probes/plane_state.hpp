// The kernel's own view of a card's planes: DRM's debugfs atomic state
// (/sys/kernel/debug/dri/<minor>/state), joined with each plane's type from KMS.
#pragma once

#include <syncway/result.hpp>

#include <cstdint>
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

} // namespace syncway::vm
