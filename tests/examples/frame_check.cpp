// Reads the frames a `syncway --record` run presented while an example ran (every frame that
// differs from the one before, as PNG) and checks that every one shows a whole frame of the
// example: the examples write their frame number (mod 256) into the blue channel of every
// pixel (examples/common/frame_code.h), so a whole frame has one blue value across the
// example's rectangle, a frame shown while it was still being drawn has two, and a frame shown
// before it was drawn at all has an older number than the frame before it.
//
//   frame_check --region X,Y,W,H [--ignore X,Y,W,H]... [--skip-code N] [--min-frames N]
//               [--presented FILE --frame-times FILE] [--expect-broken] FRAME.png...
//
// With --presented (the example's --presented-log: frame number and presentation time per
// line) and --frame-times (file name and a time per line, same clock: each recorded frame's
// presentation time plus 1 ns), a frame must also not show an older example frame than the
// newest one presented before that time, its own presentation included: a compositor that
// presented frame n shows at least frame n from then on, unless the buffer it was given still
// held an older picture (a LATE frame: its acquire point was signaled before the picture was
// in the buffer, which a steady pipeline of buffers can make look whole and in order).
//
// Frames where the rectangle is all black (the window not mapped yet) are skipped, and so are
// those whose majority code is --skip-code (something of the example that is not an animation
// frame, e.g. a still window under the default cursor).
// Exit 0 when every frame shows a whole example frame, the frames never go back, at least
// --min-frames of them showed the example, its frame number advanced and its picture is not
// flat. With --expect-broken, exit 0 only when some frame shows a torn, stale or late picture
// (the check of a deliberately broken build).
#include <record/png_image.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

struct Rect {
    int x = 0, y = 0, w = 0, h = 0;
    bool contains(int px, int py) const { return px >= x && px < x + w && py >= y && py < y + h; }
};

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;
    const uint8_t* at(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

bool parse_rect(const char* text, Rect* rect)
{
    char tail = 0;
    return std::sscanf(text, "%d,%d,%d,%d%c", &rect->x, &rect->y, &rect->w, &rect->h, &tail) == 4 &&
           rect->x >= 0 && rect->y >= 0 && rect->w > 0 && rect->h > 0;
}

// A recorded frame (syncway --record writes RGB PNGs). Returns an error message, empty on
// success.
std::string load_frame(const std::string& path, Image* image)
{
    auto read = syncway::record::read_png(path);
    if (!read)
        return read.error().message;
    const syncway::record::Image& rgba = read.value();
    image->width = rgba.width;
    image->height = rgba.height;
    image->rgb.resize(static_cast<size_t>(rgba.width) * rgba.height * 3);
    for (size_t i = 0, o = 0; i < rgba.rgba.size(); i += 4, o += 3)
        std::memcpy(&image->rgb[o], &rgba.rgba[i], 3);
    return {};
}

struct Verdict {
    bool blank = true;        // every pixel black
    bool whole = true;        // one blue value everywhere
    int code = -1;            // that value
    int other_code = -1;      // the first other one seen, when not whole
    int first_row_off = -1;   // the first row holding other_code
    size_t off_pixels = 0;    // pixels without the majority code
    std::set<uint32_t> picture; // distinct red-green values (capped)
};

Verdict judge(const Image& image, Rect region, const std::vector<Rect>& ignored)
{
    Verdict v;
    // The code is the blue value most pixels share: a torn frame is reported against it.
    std::vector<size_t> counts(256, 0);
    for (int y = region.y; y < region.y + region.h; ++y)
        for (int x = region.x; x < region.x + region.w; ++x) {
            bool skip = false;
            for (const Rect& r : ignored)
                skip = skip || r.contains(x, y);
            if (skip)
                continue;
            const uint8_t* p = image.at(x, y);
            counts[p[2]]++;
            if (p[0] || p[1] || p[2])
                v.blank = false;
            if (v.picture.size() < 4096)
                v.picture.insert(static_cast<uint32_t>(p[0]) << 8 | p[1]);
        }
    for (int c = 0; c < 256; ++c)
        if (v.code < 0 || counts[c] > counts[v.code])
            v.code = c;
    for (int y = region.y; y < region.y + region.h; ++y)
        for (int x = region.x; x < region.x + region.w; ++x) {
            bool skip = false;
            for (const Rect& r : ignored)
                skip = skip || r.contains(x, y);
            int blue = image.at(x, y)[2];
            if (skip || blue == v.code)
                continue;
            v.whole = false;
            v.off_pixels++;
            if (v.other_code < 0) {
                v.other_code = blue;
                v.first_row_off = y - region.y;
            }
        }
    return v;
}

// Lines of "NAME NUMBER": frame times (NAME a file name) or presentations (NAME a frame
// number). Returns false if the file cannot be read.
bool read_pairs(const std::string& path, std::vector<std::pair<std::string, uint64_t>>* out)
{
    std::ifstream in(path);
    if (!in)
        return false;
    std::string name;
    unsigned long long value = 0;
    while (in >> name >> value)
        out->emplace_back(name, value);
    return true;
}

std::string base_name(const std::string& path)
{
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int usage()
{
    std::fprintf(stderr, "usage: frame_check --region X,Y,W,H [--ignore X,Y,W,H]... [--skip-code N] [--min-frames N] "
                         "[--expect-broken] FRAME.png...\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    Rect region;
    bool have_region = false, expect_broken = false;
    std::vector<Rect> ignored;
    long min_frames = 3;
    int skip_code = -1;
    std::string presented_path, frame_times_path;
    std::vector<std::string> shots;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--region" && i + 1 < argc) {
            if (!parse_rect(argv[++i], &region))
                return usage();
            have_region = true;
        } else if (arg == "--ignore" && i + 1 < argc) {
            Rect r;
            if (!parse_rect(argv[++i], &r))
                return usage();
            ignored.push_back(r);
        } else if (arg == "--min-frames" && i + 1 < argc) {
            min_frames = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--presented" && i + 1 < argc) {
            presented_path = argv[++i];
        } else if (arg == "--frame-times" && i + 1 < argc) {
            frame_times_path = argv[++i];
        } else if (arg == "--skip-code" && i + 1 < argc) {
            skip_code = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
        } else if (arg == "--expect-broken") {
            expect_broken = true;
        } else if (arg.rfind("--", 0) == 0) {
            return usage();
        } else {
            shots.push_back(arg);
        }
    }
    if (!have_region || presented_path.empty() != frame_times_path.empty())
        return usage();
    // The example's frames by presentation time, and the time each recorded frame is held to.
    std::vector<std::pair<uint64_t, uint64_t>> presented; // (time, frame)
    std::map<std::string, uint64_t> asked;
    if (!presented_path.empty()) {
        std::vector<std::pair<std::string, uint64_t>> log, times;
        if (!read_pairs(presented_path, &log) || !read_pairs(frame_times_path, &times)) {
            std::printf("frame_check: cannot read %s or %s\n", presented_path.c_str(), frame_times_path.c_str());
            return 1;
        }
        for (const auto& [frame, when] : log)
            presented.emplace_back(when, std::strtoull(frame.c_str(), nullptr, 10));
        for (const auto& [file, when] : times)
            asked[file] = when;
        std::sort(presented.begin(), presented.end());
    }

    int previous = -1;
    long shown = 0, torn = 0, stale = 0, late = 0, timed = 0;
    std::set<int> codes;
    size_t widest_picture = 0;
    for (const std::string& shot : shots) {
        Image image;
        std::string error = load_frame(shot, &image);
        if (!error.empty()) {
            std::printf("frame_check: %s: %s\n", shot.c_str(), error.c_str());
            return 1;
        }
        if (region.x + region.w > image.width || region.y + region.h > image.height) {
            std::printf("frame_check: %s: the region does not fit the %dx%d frame\n", shot.c_str(),
                        image.width, image.height);
            return 1;
        }
        Verdict v = judge(image, region, ignored);
        if (v.blank || v.code == skip_code)
            continue;
        shown++;
        codes.insert(v.code);
        widest_picture = std::max(widest_picture, v.picture.size());
        if (!v.whole) {
            torn++;
            std::printf("frame_check: %s: TORN: frame code %d, but %zu pixels carry %d (first in row %d "
                        "of the region)\n",
                        shot.c_str(), v.code, v.off_pixels, v.other_code, v.first_row_off);
        }
        // Frame codes count up modulo 256; a step back means an older frame was shown after a
        // newer one: a buffer shown before its new frame was drawn into it.
        if (previous >= 0 && ((v.code - previous) & 0xff) >= 128) {
            stale++;
            std::printf("frame_check: %s: STALE: frame code %d after %d\n", shot.c_str(), v.code, previous);
        }
        previous = v.code;
        // The newest example frame presented before the time this frame is held to.
        auto when = asked.find(base_name(shot));
        if (when != asked.end()) {
            timed++;
            auto after = std::lower_bound(presented.begin(), presented.end(), std::make_pair(when->second, uint64_t{0}));
            if (after != presented.begin()) {
                uint64_t newest = 0; // frames are presented in order, but take no chances
                for (auto it = presented.begin(); it != after; ++it)
                    newest = std::max(newest, it->second);
                if (((v.code - static_cast<int>(newest & 0xff)) & 0xff) >= 128) {
                    late++;
                    std::printf("frame_check: %s: LATE: frame code %d, but frame %llu (code %llu) was presented "
                                "by the time this frame was presented\n",
                                shot.c_str(), v.code, static_cast<unsigned long long>(newest),
                                static_cast<unsigned long long>(newest & 0xff));
                }
            }
        }
    }
    std::printf("frame_check: %zu frames, %ld showed the example, %zu distinct frames, %ld torn, "
                "%ld stale, %ld late (of %ld timed against %zu presentations), %zu distinct picture colours\n",
                shots.size(), shown, codes.size(), torn, stale, late, timed, presented.size(), widest_picture);
    if (expect_broken) {
        if (torn + stale + late > 0) {
            std::printf("frame_check: the broken build was caught\n");
            return 0;
        }
        std::printf("frame_check: FAILED: the broken build showed only whole frames\n");
        return 1;
    }
    bool ok = torn == 0 && stale == 0 && late == 0;
    if (!presented_path.empty() && timed < min_frames) {
        std::printf("frame_check: FAILED: only %ld frames had a time (want %ld)\n", timed, min_frames);
        ok = false;
    }
    if (shown < min_frames) {
        std::printf("frame_check: FAILED: only %ld frames showed the example (want %ld)\n", shown, min_frames);
        ok = false;
    }
    if (codes.size() < 2) {
        std::printf("frame_check: FAILED: the frame number never advanced between frames\n");
        ok = false;
    }
    if (widest_picture < 16) {
        std::printf("frame_check: FAILED: the picture is flat (%zu colours)\n", widest_picture);
        ok = false;
    }
    return ok ? 0 : 1;
}
