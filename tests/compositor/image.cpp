#include "image.hpp"

#include <record/png_image.hpp>

#include <fstream>
#include <set>

namespace syncway::test {

std::optional<Image> Image::load_ppm(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string magic;
    int width = 0, height = 0, max = 0;
    if (!(in >> magic >> width >> height >> max) || magic != "P6" || max != 255 || width <= 0 || height <= 0)
        return std::nullopt;
    in.get();  // the single whitespace after the header
    Image image;
    image.width_ = width;
    image.height_ = height;
    image.rgb_.resize(static_cast<size_t>(width) * height * 3);
    if (!in.read(reinterpret_cast<char*>(image.rgb_.data()), static_cast<std::streamsize>(image.rgb_.size())))
        return std::nullopt;
    return image;
}

std::optional<Image> Image::load_png(const std::string& path, std::string* error)
{
    auto read = record::read_png(path);
    if (!read) {
        if (error)
            *error = read.error().message;
        return std::nullopt;
    }
    const record::Image& rgba = read.value();
    Image image;
    image.width_ = rgba.width;
    image.height_ = rgba.height;
    image.rgb_.resize(static_cast<size_t>(rgba.width) * rgba.height * 3);
    for (size_t i = 0, o = 0; i < rgba.rgba.size(); i += 4, o += 3)
        for (size_t c = 0; c < 3; ++c)
            image.rgb_[o + c] = rgba.rgba[i + c];
    return image;
}

Rgb Image::at(int x, int y) const
{
    size_t i = (static_cast<size_t>(y) * width_ + x) * 3;
    return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

size_t Image::distinct_colors(Rect rect) const
{
    std::set<uint32_t> colors;
    count(rect, [&](Rgb c) {
        colors.insert(uint32_t(c.r) << 16 | uint32_t(c.g) << 8 | c.b);
        return true;
    });
    return colors.size();
}

bool Image::same_pixels(const Image& other, Rect rect) const
{
    if (width_ != other.width_ || height_ != other.height_)
        return false;
    for (int y = rect.y; y < rect.y + rect.height && y < height_; ++y)
        for (int x = rect.x; x < rect.x + rect.width && x < width_; ++x)
            if (!(at(x, y) == other.at(x, y)))
                return false;
    return true;
}

} // namespace syncway::test
