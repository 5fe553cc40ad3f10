#include <record/png_image.hpp>

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

namespace syncway::record {
namespace {

// Larger than any output we record (16384x16384 is wlroots' limit too); a reference PNG that
// claims more is refused before we allocate for it.
constexpr png_uint_32 kMaxDimension = 16384;

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// libpng reports errors by longjmp; the message is kept here for our Error.
struct PngErrors {
    char message[256] = "";
};

void on_error(png_structp png, png_const_charp message)
{
    auto* errors = static_cast<PngErrors*>(png_get_error_ptr(png));
    std::snprintf(errors->message, sizeof errors->message, "%s", message);
    png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

} // namespace

Status write_png(const std::string& path, const uint8_t* data, int width, int height, size_t stride,
                 PixelLayout layout)
{
    if (width <= 0 || height <= 0)
        return make_error(EINVAL, path + ": nothing to write (empty image)");
    FilePtr file(std::fopen(path.c_str(), "wb"));
    if (!file)
        return make_error(errno, path + ": cannot create: " + std::strerror(errno));
    PngErrors errors;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        return make_error(ENOMEM, path + ": libpng could not start");
    }
    const bool rgb = layout == PixelLayout::Xrgb8888Le;
    // Declared before setjmp: a longjmp must not skip a constructor we rely on after it.
    std::vector<uint8_t> row(size_t(width) * (rgb ? 3 : 4));
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return make_error(EIO, path + ": cannot write PNG: " + errors.message);
    }
    png_init_io(png, file.get());
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, rgb ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; ++y) {
        const uint8_t* src = data + size_t(y) * stride;
        if (rgb) {
            for (int x = 0; x < width; ++x) {
                row[size_t(x) * 3 + 0] = src[x * 4 + 2];
                row[size_t(x) * 3 + 1] = src[x * 4 + 1];
                row[size_t(x) * 3 + 2] = src[x * 4 + 0];
            }
            png_write_row(png, row.data());
        } else {
            png_write_row(png, src);
        }
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    if (std::fflush(file.get()) != 0 || std::ferror(file.get()))
        return make_error(EIO, path + ": write failed (disk full?)");
    return Ok{};
}

Result<Image> read_png(const std::string& path)
{
    FilePtr file(std::fopen(path.c_str(), "rb"));
    if (!file)
        return make_error(errno, path + ": cannot open: " + std::strerror(errno));
    unsigned char signature[8] = {};
    if (std::fread(signature, 1, 8, file.get()) != 8 || png_sig_cmp(signature, 0, 8) != 0)
        return make_error(EINVAL, path + ": not a PNG file (no PNG signature)");
    PngErrors errors;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errors, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        return make_error(ENOMEM, path + ": libpng could not start");
    }
    Image image;
    std::vector<png_bytep> rows;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return make_error(EINVAL, path + ": broken PNG: " + errors.message);
    }
    png_init_io(png, file.get());
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, kMaxDimension, kMaxDimension);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color = png_get_color_type(png, info);
    // Everything to 8-bit RGBA.
    if (png_get_bit_depth(png, info) == 16)
        png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    if ((color == PNG_COLOR_TYPE_GRAY) && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (!(color & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_filler(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != size_t(width) * 4) {
        png_destroy_read_struct(&png, &info, nullptr);
        return make_error(EINVAL, path + ": unsupported PNG pixel format");
    }
    image.width = int(width);
    image.height = int(height);
    image.rgba.resize(size_t(width) * height * 4);
    rows.resize(height);
    for (png_uint_32 y = 0; y < height; ++y)
        rows[y] = image.rgba.data() + size_t(y) * width * 4;
    png_read_image(png, rows.data());
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return image;
}

} // namespace syncway::record
