// PNG files of frames: written by the recorder (from an output's pixels), read by the checker.
// RGBA8 in memory, row after row, no padding: the one layout both sides compare.
#pragma once

#include <syncway/result.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace syncway::record {

struct Image {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgba;  // width * height * 4

    uint8_t* pixel(int x, int y) { return rgba.data() + (size_t(y) * size_t(width) + size_t(x)) * 4; }
    const uint8_t* pixel(int x, int y) const { return rgba.data() + (size_t(y) * size_t(width) + size_t(x)) * 4; }
};

// How the source rows of write_png are laid out.
enum class PixelLayout {
    Rgba8,         // R, G, B, A bytes
    Xrgb8888Le,    // DRM XRGB8888/ARGB8888 on a little-endian CPU: B, G, R, X bytes; alpha ignored
};

// Writes `height` rows of `stride` bytes as an 8-bit RGB(A) PNG. Xrgb8888Le is written as RGB
// (what a screen shows has no alpha). Fast zlib level: the recorder writes every changed frame.
Status write_png(const std::string& path, const uint8_t* data, int width, int height, size_t stride,
                 PixelLayout layout);
inline Status write_png(const std::string& path, const Image& image)
{
    return write_png(path, image.rgba.data(), image.width, image.height, size_t(image.width) * 4, PixelLayout::Rgba8);
}

// Any 8/16-bit PNG (grey, palette, RGB, with or without alpha) as RGBA8. Errors name the file
// and what is wrong with it (missing, not a PNG, truncated, too large).
Result<Image> read_png(const std::string& path);

} // namespace syncway::record
