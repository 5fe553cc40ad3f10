#include "syncway/heaps/buffer_layout.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <limits>
#include <string>

namespace syncway::heaps {
namespace {

constexpr std::array formats{
    FormatInfo{PixelFormat::XRGB8888, "XRGB8888", 4, false},
    FormatInfo{PixelFormat::ARGB8888, "ARGB8888", 4, true},
    FormatInfo{PixelFormat::XBGR8888, "XBGR8888", 4, false},
    FormatInfo{PixelFormat::ABGR8888, "ABGR8888", 4, true},
    FormatInfo{PixelFormat::RGBA8888, "RGBA8888", 4, true},
    FormatInfo{PixelFormat::RGBX8888, "RGBX8888", 4, false},
    FormatInfo{PixelFormat::BGRA8888, "BGRA8888", 4, true},
    FormatInfo{PixelFormat::BGRX8888, "BGRX8888", 4, false},
    FormatInfo{PixelFormat::ARGB2101010, "ARGB2101010", 4, true},
    FormatInfo{PixelFormat::XRGB2101010, "XRGB2101010", 4, false},
    FormatInfo{PixelFormat::ABGR2101010, "ABGR2101010", 4, true},
    FormatInfo{PixelFormat::XBGR2101010, "XBGR2101010", 4, false},
    FormatInfo{PixelFormat::RGB565, "RGB565", 2, false},
    FormatInfo{PixelFormat::BGR565, "BGR565", 2, false},
    FormatInfo{PixelFormat::RGB888, "RGB888", 3, false},
};

} // namespace

std::string fourcc_name(uint32_t code)
{
    std::string s;
    for (int i = 0; i < 4; ++i) {
        char c = static_cast<char>((code >> (8 * i)) & 0xff);
        s += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return s;
}

namespace {

// round `v` up to a multiple of the power of two `align`; false on overflow
bool align_up(uint64_t v, uint64_t align, uint64_t& out)
{
    uint64_t sum = 0;
    if (__builtin_add_overflow(v, align - 1, &sum))
        return false;
    out = sum & ~(align - 1);
    return true;
}

} // namespace

std::span<const FormatInfo> supported_formats() { return formats; }

const FormatInfo* find_format(uint32_t drm_fourcc)
{
    for (const FormatInfo& f : formats) {
        if (static_cast<uint32_t>(f.format) == drm_fourcc)
            return &f;
    }
    return nullptr;
}

const FormatInfo* find_format(std::string_view name)
{
    for (const FormatInfo& f : formats) {
        if (f.name == name)
            return &f;
    }
    return nullptr;
}

size_t page_size() noexcept
{
    long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<size_t>(p) : 4096;
}

Result<uint64_t> page_align(uint64_t size)
{
    uint64_t out = 0;
    if (!align_up(size, page_size(), out))
        return make_error(EOVERFLOW, "size " + std::to_string(size) + " overflows when rounded up to whole pages");
    return out;
}

Result<BufferLayout> compute_layout(uint32_t drm_fourcc, uint32_t width, uint32_t height, uint32_t stride_alignment)
{
    const FormatInfo* info = find_format(drm_fourcc);
    if (!info)
        return make_error(EINVAL, "unsupported pixel format '" + fourcc_name(drm_fourcc) + "' (" +
                                      std::to_string(drm_fourcc) + ")");
    std::string what = std::string(info->name) + " " + std::to_string(width) + "x" + std::to_string(height);
    if (width == 0 || height == 0)
        return make_error(EINVAL, what + ": width and height must be at least 1");
    if (stride_alignment == 0 || (stride_alignment & (stride_alignment - 1)) != 0)
        return make_error(EINVAL, what + ": stride alignment " + std::to_string(stride_alignment) +
                                      " is not a power of two");

    uint64_t row = 0, stride = 0, data = 0;
    if (__builtin_mul_overflow(uint64_t{width}, uint64_t{info->bytes_per_pixel}, &row) ||
        !align_up(row, stride_alignment, stride) || stride > std::numeric_limits<uint32_t>::max())
        return make_error(EOVERFLOW, what + ": a row does not fit in a 32-bit stride");
    if (__builtin_mul_overflow(stride, uint64_t{height}, &data))
        return make_error(EOVERFLOW, what + ": stride x height overflows 64 bits");
    Result<uint64_t> alloc = page_align(data);
    if (!alloc)
        return make_error(EOVERFLOW, what + ": " + alloc.error().message);

    return BufferLayout{width, height, static_cast<uint32_t>(stride), data, alloc.value()};
}

} // namespace syncway::heaps
