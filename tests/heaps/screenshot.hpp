// A screenshot of the compositor's outputs through `grim` (screencopy), as RGB pixels.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace syncway::heaps::test {

struct Screenshot {
    uint32_t width = 0, height = 0;
    std::vector<uint8_t> rgb; // 3 bytes a pixel, rows top to bottom
    std::string error;

    uint32_t at(uint32_t x, uint32_t y) const
    {
        const uint8_t* p = &rgb[(size_t{y} * width + x) * 3];
        return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
    }
};

// Runs `grim -t ppm -` with the current WAYLAND_DISPLAY and parses its binary PPM.
inline Screenshot take_screenshot(const std::string& grim)
{
    Screenshot shot;
    std::string command = grim + " -t ppm - 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) {
        shot.error = "cannot run " + grim;
        return shot;
    }
    unsigned w = 0, h = 0, max = 0;
    if (std::fscanf(pipe, "P6 %u %u %u", &w, &h, &max) != 3 || max != 255 || std::fgetc(pipe) == EOF) {
        shot.error = "grim did not write a binary PPM";
    } else {
        shot.width = w;
        shot.height = h;
        shot.rgb.resize(size_t{w} * h * 3);
        if (std::fread(shot.rgb.data(), 1, shot.rgb.size(), pipe) != shot.rgb.size())
            shot.error = "grim's PPM is short";
    }
    int status = pclose(pipe);
    if (shot.error.empty() && status != 0)
        shot.error = "grim failed (status " + std::to_string(status) + ")";
    return shot;
}

} // namespace syncway::heaps::test
