// Pixel formats (DRM fourcc codes) and the stride and size of a single-plane buffer, computed
// with every multiplication and rounding checked for overflow.
#pragma once

#include "syncway/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace syncway::heaps {

constexpr uint32_t fourcc(char a, char b, char c, char d)
{
    return static_cast<uint32_t>(static_cast<uint8_t>(a)) | static_cast<uint32_t>(static_cast<uint8_t>(b)) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(c)) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(d)) << 24;
}

// Values are DRM_FORMAT_* (drm_fourcc.h); names follow DRM's, little-endian packed.
enum class PixelFormat : uint32_t {
    XRGB8888 = fourcc('X', 'R', '2', '4'),
    ARGB8888 = fourcc('A', 'R', '2', '4'),
    XBGR8888 = fourcc('X', 'B', '2', '4'),
    ABGR8888 = fourcc('A', 'B', '2', '4'),
    RGBA8888 = fourcc('R', 'A', '2', '4'),
    RGBX8888 = fourcc('R', 'X', '2', '4'),
    BGRA8888 = fourcc('B', 'A', '2', '4'),
    BGRX8888 = fourcc('B', 'X', '2', '4'),
    ARGB2101010 = fourcc('A', 'R', '3', '0'),
    XRGB2101010 = fourcc('X', 'R', '3', '0'),
    ABGR2101010 = fourcc('A', 'B', '3', '0'),
    XBGR2101010 = fourcc('X', 'B', '3', '0'),
    RGB565 = fourcc('R', 'G', '1', '6'),
    BGR565 = fourcc('B', 'G', '1', '6'),
    RGB888 = fourcc('R', 'G', '2', '4'),
};

struct FormatInfo {
    PixelFormat format;
    std::string_view name;
    uint32_t bytes_per_pixel;
    bool has_alpha;
};

std::span<const FormatInfo> supported_formats();
// The four characters of a fourcc code ("XR24"), '?' for unprintable bytes: for messages.
std::string fourcc_name(uint32_t drm_fourcc);
const FormatInfo* find_format(uint32_t drm_fourcc);
const FormatInfo* find_format(std::string_view name); // "XRGB8888", case-sensitive

struct BufferLayout {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;     // bytes per row, a multiple of the requested alignment
    uint64_t data_size = 0;  // stride * height
    uint64_t alloc_size = 0; // data_size rounded up to whole pages
};

// Rows aligned to 64 bytes (a cache line) by default: rows never share a line, and it is a
// multiple of 4 as pixman requires. `stride_alignment` must be a power of two.
Result<BufferLayout> compute_layout(uint32_t drm_fourcc, uint32_t width, uint32_t height,
                                    uint32_t stride_alignment = 64);

size_t page_size() noexcept;
// `size` rounded up to whole pages; EOVERFLOW when that does not fit in 64 bits.
Result<uint64_t> page_align(uint64_t size);

} // namespace syncway::heaps
