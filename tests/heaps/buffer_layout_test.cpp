#include "syncway/heaps/buffer_layout.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <limits>

using namespace syncway::heaps;

namespace {
uint32_t code(PixelFormat f) { return static_cast<uint32_t>(f); }
} // namespace

TEST(BufferLayout, FourccValuesMatchDrm)
{
    // drm_fourcc.h: DRM_FORMAT_XRGB8888 0x34325258, ARGB8888 0x34325241, RGB565 0x36314752
    EXPECT_EQ(code(PixelFormat::XRGB8888), 0x34325258u);
    EXPECT_EQ(code(PixelFormat::ARGB8888), 0x34325241u);
    EXPECT_EQ(code(PixelFormat::XBGR8888), 0x34324258u);
    EXPECT_EQ(code(PixelFormat::ABGR8888), 0x34324241u);
    EXPECT_EQ(code(PixelFormat::RGB565), 0x36314752u);
    EXPECT_EQ(code(PixelFormat::XRGB2101010), 0x30335258u);
    EXPECT_EQ(code(PixelFormat::BGRX8888), 0x34325842u);
}

TEST(BufferLayout, FullHdXrgb)
{
    auto l = compute_layout(code(PixelFormat::XRGB8888), 1920, 1080);
    ASSERT_TRUE(l.ok()) << l.error().message;
    EXPECT_EQ(l->stride, 7680u);
    EXPECT_EQ(l->data_size, 7680u * 1080u);
    EXPECT_EQ(l->alloc_size % page_size(), 0u);
    EXPECT_GE(l->alloc_size, l->data_size);
    EXPECT_LT(l->alloc_size - l->data_size, page_size());
}

TEST(BufferLayout, StrideIsAlignedForEveryFormat)
{
    for (const FormatInfo& f : supported_formats()) {
        SCOPED_TRACE(std::string(f.name));
        auto l = compute_layout(code(f.format), 33, 7);
        ASSERT_TRUE(l.ok()) << l.error().message;
        EXPECT_EQ(l->stride % 64, 0u);
        EXPECT_GE(l->stride, 33u * f.bytes_per_pixel);
        EXPECT_LT(l->stride, 33u * f.bytes_per_pixel + 64);
        EXPECT_EQ(l->data_size, uint64_t{l->stride} * 7);
        EXPECT_EQ(l->alloc_size, page_size());
    }
}

TEST(BufferLayout, Rgb565OddWidthWithAlignmentFour)
{
    auto l = compute_layout(code(PixelFormat::RGB565), 3, 2, 4);
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->stride, 8u);
    EXPECT_EQ(l->data_size, 16u);
}

TEST(BufferLayout, ExactPageMultipleIsNotRoundedFurther)
{
    // 1024 x 4 bytes = one 4 KiB row
    auto l = compute_layout(code(PixelFormat::ARGB8888), 1024, uint32_t(page_size() / 4096 * 4));
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->alloc_size, l->data_size);
}

TEST(BufferLayout, ZeroDimensionsAreRejected)
{
    auto a = compute_layout(code(PixelFormat::XRGB8888), 0, 10);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error().code, EINVAL);
    EXPECT_NE(a.error().message.find("XRGB8888 0x10"), std::string::npos) << a.error().message;
    EXPECT_FALSE(compute_layout(code(PixelFormat::XRGB8888), 10, 0).ok());
}

TEST(BufferLayout, UnknownFormatIsNamed)
{
    auto l = compute_layout(0x3231564e /* NV12 */, 16, 16);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.error().code, EINVAL);
    EXPECT_NE(l.error().message.find("NV12"), std::string::npos) << l.error().message;
}

TEST(BufferLayout, BadAlignmentIsRejected)
{
    EXPECT_EQ(compute_layout(code(PixelFormat::XRGB8888), 16, 16, 0).error().code, EINVAL);
    EXPECT_EQ(compute_layout(code(PixelFormat::XRGB8888), 16, 16, 48).error().code, EINVAL);
}

TEST(BufferLayout, StrideOverflowingThirtyTwoBits)
{
    // 2^30 pixels of 4 bytes = 2^32 bytes: one byte more than a 32-bit stride holds
    auto l = compute_layout(code(PixelFormat::XRGB8888), 1u << 30, 1);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.error().code, EOVERFLOW);
    auto just = compute_layout(code(PixelFormat::XRGB8888), (1u << 30) - 16, 1);
    EXPECT_TRUE(just.ok()) << just.error().message;
}

TEST(BufferLayout, HugeButRepresentableSizes)
{
    uint32_t max = std::numeric_limits<uint32_t>::max();
    auto l = compute_layout(code(PixelFormat::RGB565), max / 2 - 64, max);
    ASSERT_TRUE(l.ok()) << l.error().message; // 64-bit arithmetic: about 2^63 bytes
    EXPECT_GT(l->data_size, uint64_t{1} << 62);
}

TEST(BufferLayout, PageAlignOverflow)
{
    auto r = page_align(std::numeric_limits<uint64_t>::max() - 5);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EOVERFLOW);
    EXPECT_EQ(page_align(1).value(), page_size());
    EXPECT_EQ(page_align(0).value(), 0u);
}

TEST(BufferLayout, FindFormatByNameAndCode)
{
    ASSERT_NE(find_format("ABGR8888"), nullptr);
    EXPECT_EQ(find_format("ABGR8888")->format, PixelFormat::ABGR8888);
    EXPECT_TRUE(find_format("ABGR8888")->has_alpha);
    EXPECT_EQ(find_format(code(PixelFormat::RGB565))->bytes_per_pixel, 2u);
    EXPECT_EQ(find_format("xrgb8888"), nullptr);
}
