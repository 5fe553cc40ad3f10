#include "plane_state.hpp"

#include "drm_card.hpp"
#include "probe.hpp"

#include <syncway/unique_fd.hpp>

#include <drm_fourcc.h>
#include <linux/dma-buf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <utility>
#include <sstream>
#include <thread>

namespace syncway::vm {

namespace {

// "key=value" with exactly `depth` leading tabs, else false.
bool field(const std::string& line, int depth, const char* key, std::string& value)
{
    size_t tabs = line.find_first_not_of('\t');
    if (tabs != static_cast<size_t>(depth))
        return false;
    size_t klen = std::strlen(key);
    if (line.compare(tabs, klen, key) != 0 || line.size() <= tabs + klen || line[tabs + klen] != '=')
        return false;
    value = line.substr(tabs + klen + 1);
    return true;
}

} // namespace

std::string PlaneState::describe() const
{
    std::string s = "plane " + std::to_string(id) + " " + type + " crtc=" + crtc + " fb=" + std::to_string(fb);
    if (fb)
        s += " format=" + format + " size=" + fb_size + " allocated-by=" + allocated_by;
    s += " crtc-pos=" + crtc_pos;
    return s;
}

std::vector<PlaneState> parse_plane_states(const std::string& text)
{
    std::vector<PlaneState> planes;
    std::istringstream in(text);
    std::string line, value;
    bool in_plane = false;
    while (std::getline(in, line)) {
        if (line.rfind("plane[", 0) == 0) {
            PlaneState p;
            p.id = static_cast<uint32_t>(std::strtoul(line.c_str() + 6, nullptr, 10));
            planes.push_back(p);
            in_plane = true;
            continue;
        }
        // Anything not indented ends the plane section (crtc[...], connector[...]).
        if (line.empty() || line[0] != '\t') {
            in_plane = false;
            continue;
        }
        if (!in_plane)
            continue;
        PlaneState& p = planes.back();
        if (field(line, 1, "crtc", value))
            p.crtc = value;
        else if (field(line, 1, "fb", value))
            p.fb = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
        else if (field(line, 1, "crtc-pos", value))
            p.crtc_pos = value;
        else if (field(line, 2, "format", value))
            p.format = value.substr(0, value.find(' '));
        else if (field(line, 2, "size", value))
            p.fb_size = value;
        else if (field(line, 2, "allocated by ", value))  // the kernel prints "allocated by = comm"
            p.allocated_by = value.substr(std::min(value.size(), value.find_first_not_of(' ')));
    }
    return planes;
}

namespace {

// A card's debugfs state file and an fd to name its planes' types.
struct StateSource {
    std::string path;
    UniqueFd fd;

    static Result<StateSource> find(const std::string& driver)
    {
        auto cards = list_drm_cards();
        if (!cards)
            return cards.error();
        auto card = std::find_if(cards->begin(), cards->end(), [&](auto& c) { return c.driver == driver; });
        if (card == cards->end())
            return make_error(ENOENT, "no DRM card driven by '" + driver + "'");
        struct stat st{};
        if (::stat(card->node.c_str(), &st) != 0)
            return sys_error("stat " + card->node);
        StateSource src;
        src.path = "/sys/kernel/debug/dri/" + std::to_string(minor(st.st_rdev)) + "/state";
        src.fd.reset(::open(card->node.c_str(), O_RDWR | O_CLOEXEC));
        if (!src.fd)
            return sys_error("open " + card->node);
        drmSetClientCap(src.fd.get(), DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
        return src;
    }

    Result<std::vector<PlaneState>> read() const
    {
        std::ifstream in(path);
        if (!in)
            return sys_error("open " + path + " (is debugfs mounted?)");
        std::stringstream text;
        text << in.rdbuf();
        auto planes = parse_plane_states(text.str());
        for (auto& p : planes)
            p.type = plane_type_name(fd.get(), p.id);
        return planes;
    }
};

// Framebuffer `fb_id` (any process's) as GETFB2 describes it, with a GEM handle of our own to
// its first plane, closed when this goes.
struct FbPlane {
    std::unique_ptr<drmModeFB2, decltype(&drmModeFreeFB2)> fb{nullptr, drmModeFreeFB2};
    int fd = -1;
    uint32_t handle = 0;

    FbPlane() = default;
    FbPlane(FbPlane&& other) noexcept
        : fb(std::move(other.fb)), fd(other.fd), handle(std::exchange(other.handle, 0)) {}
    FbPlane& operator=(FbPlane&&) = delete;
    ~FbPlane()
    {
        if (handle) {
            drm_gem_close close{handle, 0};
            drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &close);
        }
    }

    static Result<FbPlane> get(int fd, uint32_t fb_id)
    {
        FbPlane plane;
        plane.fd = fd;
        plane.fb.reset(drmModeGetFB2(fd, fb_id));
        if (!plane.fb)
            return sys_error("GETFB2 of framebuffer " + std::to_string(fb_id));
        plane.handle = plane.fb->handles[0];
        if (!plane.handle)
            return wrong("GETFB2 of framebuffer " + std::to_string(fb_id) + " gave no GEM handle (needs CAP_SYS_ADMIN)");
        return plane;
    }
};

// The pixel at (x, y) of framebuffer `fb_id` (any process's), read through a GEM handle of
// our own.
Result<uint32_t> read_fb_pixel(int fd, uint32_t fb_id, int x, int y)
{
    auto plane = FbPlane::get(fd, fb_id);
    if (!plane)
        return plane.error();
    const auto& fb = plane->fb;
    uint32_t handle = plane->handle;
    if (fb->pixel_format != DRM_FORMAT_ARGB8888 && fb->pixel_format != DRM_FORMAT_XRGB8888)
        return wrong("framebuffer " + std::to_string(fb_id) + " is not ARGB8888/XRGB8888");
    if (x < 0 || y < 0 || static_cast<uint32_t>(x) >= fb->width || static_cast<uint32_t>(y) >= fb->height)
        return make_error(EINVAL, "pixel (" + std::to_string(x) + ", " + std::to_string(y) + ") is outside the " +
                                      std::to_string(fb->width) + "x" + std::to_string(fb->height) + " framebuffer");
    size_t size = static_cast<size_t>(fb->offsets[0]) + static_cast<size_t>(fb->pitches[0]) * fb->height;
    size_t at = fb->offsets[0] + static_cast<size_t>(y) * fb->pitches[0] + static_cast<size_t>(x) * 4;
    uint32_t argb = 0;
    drm_mode_map_dumb map{};
    map.handle = handle;
    if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) == 0) {
        void* data = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(map.offset));
        if (data == MAP_FAILED)
            return sys_error("mmap of framebuffer " + std::to_string(fb_id));
        std::memcpy(&argb, static_cast<const char*>(data) + at, sizeof argb);
        munmap(data, size);
        return argb;
    }
    // The kernel maps no imported buffer through MAP_DUMB (drm_gem_dumb_map_offset refuses
    // them with EINVAL): a framebuffer made from another exporter's dma-buf (a dma-buf heap,
    // udmabuf) is read through that dma-buf, which PRIME export of the handle gives back.
    int map_err = errno;
    int dmabuf = -1;
    if (drmPrimeHandleToFD(fd, handle, DRM_CLOEXEC, &dmabuf) != 0)
        return make_error(map_err, "MAP_DUMB of framebuffer " + std::to_string(fb_id) + ": " + std::strerror(map_err) +
                                       ", and PRIME export of it: " + std::strerror(errno));
    UniqueFd owned(dmabuf);
    void* data = mmap(nullptr, size, PROT_READ, MAP_SHARED, owned.get(), 0);
    if (data == MAP_FAILED)
        return sys_error("mmap of framebuffer " + std::to_string(fb_id) + "'s dma-buf");
    dma_buf_sync sync{DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ};
    drmIoctl(owned.get(), DMA_BUF_IOCTL_SYNC, &sync);
    std::memcpy(&argb, static_cast<const char*>(data) + at, sizeof argb);
    sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
    drmIoctl(owned.get(), DMA_BUF_IOCTL_SYNC, &sync);
    munmap(data, size);
    return argb;
}

// What memory framebuffer `fb_id` is: the exporter and name of its dma-buf (PRIME export of
// its GEM handle gives back the very dma-buf it was imported from), from our fdinfo.
Result<std::string> read_fb_memory(int fd, uint32_t fb_id)
{
    auto plane = FbPlane::get(fd, fb_id);
    if (!plane)
        return plane.error();
    const auto& fb = plane->fb;
    int dmabuf = -1;
    int exported = drmPrimeHandleToFD(fd, plane->handle, DRM_CLOEXEC, &dmabuf);
    int err = errno;
    if (exported != 0)
        return make_error(err, "PRIME export of framebuffer " + std::to_string(fb_id) + ": " + std::strerror(err));
    UniqueFd owned(dmabuf);
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(owned.get()));
    std::string line, exporter = "?", name = "";
    while (std::getline(info, line)) {
        auto value = [&](size_t key_len) {
            std::string v = line.substr(key_len);
            size_t start = v.find_first_not_of(" \t");
            return start == std::string::npos ? std::string() : v.substr(start);
        };
        if (line.rfind("exp_name:", 0) == 0)
            exporter = value(9);
        else if (line.rfind("name:", 0) == 0)
            name = value(5);
    }
    return "exporter=" + exporter + " name=" + (name.empty() ? "-" : name) + " size=" +
           std::to_string(fb->width) + "x" + std::to_string(fb->height);
}

bool condition_holds(const PlaneState& p, const std::string& condition)
{
    if (condition == "has-fb")
        return p.fb != 0;
    if (condition == "no-fb")
        return p.fb == 0;
    if (condition.rfind("fb-not=", 0) == 0)
        return std::to_string(p.fb) != condition.substr(7);
    if (condition.rfind("moved-from=", 0) == 0) {
        auto xy = condition.substr(11);
        auto comma = xy.find(',');
        std::string where = "+" + xy.substr(0, comma) + "+" + xy.substr(comma + 1);
        return p.crtc_pos.size() < where.size() || p.crtc_pos.compare(p.crtc_pos.size() - where.size(), where.size(), where) != 0;
    }
    return false;
}

} // namespace

Result<std::vector<PlaneState>> read_plane_states(const std::string& driver)
{
    auto src = StateSource::find(driver);
    if (!src)
        return src.error();
    return src->read();
}

namespace {

// Re-reads DRIVER's state every 50 ms and hands its first plane of `type` to `check`, which
// says whether it is done (or fails), until it is done or `timeout_ms` has passed.
template <typename Check>
Status poll_plane(const std::string& driver, const std::string& type, int timeout_ms, Check check)
{
    auto src = StateSource::find(driver);
    if (!src)
        return src.error();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto planes = src->read();
        if (!planes)
            return planes.error();
        auto it = std::find_if(planes->begin(), planes->end(), [&](auto& p) { return p.type == type; });
        if (it == planes->end())
            return make_error(ENOENT, "the " + driver + " card has no " + type + " plane");
        Result<bool> done = check(*src, *it);
        if (!done)
            return done.error();
        if (*done || std::chrono::steady_clock::now() >= deadline)
            return Ok{};
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

} // namespace

Result<PlaneWait> wait_for_plane(const std::string& driver, const std::string& type, const std::string& condition,
                                 int timeout_ms)
{
    if (condition != "has-fb" && condition != "no-fb" && condition.rfind("fb-not=", 0) != 0 &&
        (condition.rfind("moved-from=", 0) != 0 || condition.find(',') == std::string::npos))
        return make_error(EINVAL, "unknown plane condition '" + condition +
                                      "' (has-fb, no-fb, fb-not=N, moved-from=X,Y)");
    PlaneWait result;
    Status polled = poll_plane(driver, type, timeout_ms, [&](const StateSource&, const PlaneState& plane) -> Result<bool> {
        result = PlaneWait{plane, condition_holds(plane, condition)};
        return result.met;
    });
    if (!polled)
        return polled.error();
    return result;
}

Result<PlaneMemory> read_plane_memory(const std::string& driver, const std::string& type)
{
    PlaneMemory result;
    Status polled = poll_plane(driver, type, 0, [&](const StateSource& src, const PlaneState& plane) -> Result<bool> {
        result.plane = plane;
        if (!plane.fb)
            return wrong("the " + type + " plane carries no framebuffer");
        auto memory = read_fb_memory(src.fd.get(), plane.fb);
        if (!memory)
            return memory.error();
        result.memory = *memory;
        return true;
    });
    if (!polled)
        return polled.error();
    return result;
}

Result<PlanePixel> read_plane_pixel(const std::string& driver, const std::string& type, int x, int y,
                                    std::optional<uint32_t> expect, int timeout_ms)
{
    PlanePixel result;
    Status polled = poll_plane(driver, type, timeout_ms, [&](const StateSource& src, const PlaneState& plane) -> Result<bool> {
        result = PlanePixel{plane, 0, false};
        if (!plane.fb)
            return expect ? Result<bool>(false) : Result<bool>(wrong("the " + type + " plane carries no framebuffer"));
        auto pixel = read_fb_pixel(src.fd.get(), plane.fb, x, y);
        if (!pixel)
            return pixel.error();
        result.argb = *pixel;
        result.met = !expect || *expect == result.argb;
        return result.met;
    });
    if (!polled)
        return polled.error();
    return result;
}

} // namespace syncway::vm
