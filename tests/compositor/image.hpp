// A screenshot as grim writes it with `-t ppm` (binary P6, 8 bits per channel), or a frame
// syncway --record wrote (PNG).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace syncway::test {

struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb&) const = default;
};

struct Rect {
    int x = 0, y = 0, width = 0, height = 0;
};

class Image {
public:
    static std::optional<Image> load_ppm(const std::string& path);
    // Any PNG (alpha dropped); nullopt, with the reason in *error, if it cannot be read.
    static std::optional<Image> load_png(const std::string& path, std::string* error = nullptr);

    int width() const { return width_; }
    int height() const { return height_; }
    Rgb at(int x, int y) const;
    // Distinct colours inside rect (clipped to the image).
    size_t distinct_colors(Rect rect) const;
    // Pixels inside rect that satisfy the predicate.
    template <typename Pred> size_t count(Rect rect, Pred pred) const
    {
        size_t n = 0;
        for (int y = rect.y; y < rect.y + rect.height && y < height_; ++y)
            for (int x = rect.x; x < rect.x + rect.width && x < width_; ++x)
                if (pred(at(x, y)))
                    ++n;
        return n;
    }
    bool same_pixels(const Image& other, Rect rect) const;

private:
    int width_ = 0, height_ = 0;
    std::vector<uint8_t> rgb_;
};

} // namespace syncway::test
