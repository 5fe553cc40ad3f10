#include "dmabuf_client.hpp"

#include "linux-dmabuf-unstable-v1-client-protocol.h"

#include "syncway/testing/dispatch.hpp"

#include <cerrno>
#include <cstring>

namespace syncway::heaps::test {

struct Listeners {
    static void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version)
    {
        auto* c = static_cast<DmabufClient*>(data);
        std::string_view iface = interface;
        if (c->core_->bind(registry, name, iface))
            return;
        if (iface == zwp_linux_dmabuf_v1_interface.name) {
            // v3 is where format+modifier pairs are events on the global itself
            c->dmabuf_version_ = std::min(version, 3u);
            c->dmabuf_ = static_cast<zwp_linux_dmabuf_v1*>(
                wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, c->dmabuf_version_));
            zwp_linux_dmabuf_v1_add_listener(c->dmabuf_, &dmabuf_listener, c);
        }
    }
    static void global_remove(void*, wl_registry*, uint32_t) {}
    static constexpr wl_registry_listener registry_listener = {global, global_remove};

    static void format(void* data, zwp_linux_dmabuf_v1*, uint32_t fourcc)
    {
        static_cast<DmabufClient*>(data)->advertised_.push_back({fourcc, 0x00ffffffffffffffULL});
    }
    static void modifier(void* data, zwp_linux_dmabuf_v1*, uint32_t fourcc, uint32_t hi, uint32_t lo)
    {
        static_cast<DmabufClient*>(data)->advertised_.push_back({fourcc, (uint64_t{hi} << 32) | lo});
    }
    static constexpr zwp_linux_dmabuf_v1_listener dmabuf_listener = {format, modifier};

    static void frame_done(void* data, wl_callback* callback, uint32_t)
    {
        auto* c = static_cast<DmabufClient*>(data);
        wl_callback_destroy(callback);
        if (c->frame_ == callback)
            c->frame_ = nullptr;
        c->frame_done_ = true;
    }
    static constexpr wl_callback_listener frame_listener = {frame_done};

    static void created(void* data, zwp_linux_buffer_params_v1*, wl_buffer* buffer)
    {
        auto* c = static_cast<DmabufClient*>(data);
        c->created_.push_back(buffer);
        c->answered_ = true;
    }
    static void failed(void* data, zwp_linux_buffer_params_v1*)
    {
        static_cast<DmabufClient*>(data)->answered_ = true;
    }
    static constexpr zwp_linux_buffer_params_v1_listener params_listener = {created, failed};
};

DmabufClient::DmabufClient()
{
    display_ = wl_display_connect(nullptr);
    if (!display_) {
        error_ = std::string("cannot connect to WAYLAND_DISPLAY: ") + std::strerror(errno);
        return;
    }
    registry_ = wl_display_get_registry(display_);
    wl_registry_add_listener(registry_, &Listeners::registry_listener, this);
    if (wl_display_roundtrip(display_) < 0 || wl_display_roundtrip(display_) < 0) {
        error_ = "round trip failed";
        return;
    }
    if (!core_->complete())
        error_ = "the compositor lacks wl_compositor, wl_shm or xdg_wm_base";
    else if (!dmabuf_)
        error_ = "the compositor does not advertise zwp_linux_dmabuf_v1";
}

DmabufClient::~DmabufClient()
{
    if (!display_)
        return;
    // Destroying proxies of a dead connection is fine: only the client side is freed.
    if (frame_)
        wl_callback_destroy(frame_);
    for (wl_buffer* b : created_)
        wl_buffer_destroy(b);
    window_.reset();
    if (dmabuf_)
        zwp_linux_dmabuf_v1_destroy(dmabuf_);
    core_.reset();
    if (registry_)
        wl_registry_destroy(registry_);
    wl_display_disconnect(display_);
}

bool DmabufClient::roundtrip() { return wl_display_roundtrip(display_) >= 0; }

int DmabufClient::protocol_error(std::string* interface) const
{
    if (wl_display_get_error(display_) != EPROTO)
        return -1;
    const wl_interface* iface = nullptr;
    uint32_t id = 0;
    int code = static_cast<int>(wl_display_get_protocol_error(display_, &iface, &id));
    if (interface)
        *interface = iface ? iface->name : "";
    return code;
}

bool DmabufClient::dispatch_until(const bool& flag, int timeout_ms)
{
    return testing::dispatch_until(display_, [&] { return flag; }, std::chrono::milliseconds(timeout_ms)) ==
           testing::DispatchResult::done;
}

bool DmabufClient::map_window()
{
    window_ = std::make_unique<testing::Toplevel>(core_->compositor, core_->wm_base, "heaps dmabuf test");
    return testing::dispatch_until(display_, [&] { return window_->configured(); }, std::chrono::milliseconds(5000)) ==
           testing::DispatchResult::done;
}

zwp_linux_buffer_params_v1* DmabufClient::create_params()
{
    auto* params = zwp_linux_dmabuf_v1_create_params(dmabuf_);
    zwp_linux_buffer_params_v1_add_listener(params, &Listeners::params_listener, this);
    return params;
}

wl_buffer* DmabufClient::create_buffer(const std::vector<PlaneSpec>& planes, int32_t width, int32_t height,
                                       uint32_t format, bool immediate, bool* failed, uint32_t flags)
{
    if (failed)
        *failed = false;
    zwp_linux_buffer_params_v1* params = create_params();
    for (const PlaneSpec& p : planes)
        zwp_linux_buffer_params_v1_add(params, p.fd, p.plane_idx, p.offset, p.stride,
                                       static_cast<uint32_t>(p.modifier >> 32), static_cast<uint32_t>(p.modifier));
    wl_buffer* buffer = nullptr;
    if (immediate) {
        buffer = zwp_linux_buffer_params_v1_create_immed(params, width, height, format, flags);
        if (!roundtrip())
            buffer = nullptr; // a protocol error: the proxy belongs to the dead connection
    } else {
        answered_ = false;
        size_t before = created_.size();
        zwp_linux_buffer_params_v1_create(params, width, height, format, flags);
        if (dispatch_until(answered_, 5000)) {
            if (created_.size() > before) {
                buffer = created_.back();
                created_.pop_back();
            } else if (failed) {
                *failed = true;
            }
        }
    }
    zwp_linux_buffer_params_v1_destroy(params);
    return buffer;
}

wl_buffer* DmabufClient::create_shm_buffer(int fd, uint32_t size, int32_t width, int32_t height, uint32_t stride,
                                           uint32_t wl_shm_format)
{
    wl_shm_pool* pool = wl_shm_create_pool(core_->shm, fd, static_cast<int32_t>(size));
    wl_buffer* buffer =
        wl_shm_pool_create_buffer(pool, 0, width, height, static_cast<int32_t>(stride), wl_shm_format);
    wl_shm_pool_destroy(pool);
    return buffer;
}

bool DmabufClient::present(wl_buffer* buffer, bool wait, int timeout_ms)
{
    frame_done_ = false;
    wl_surface* surface = window_->surface();
    wl_surface_attach(surface, buffer, 0, 0);
    wl_surface_damage_buffer(surface, 0, 0, INT32_MAX, INT32_MAX);
    frame_ = wl_surface_frame(surface);
    wl_callback_add_listener(frame_, &Listeners::frame_listener, this);
    wl_surface_commit(surface);
    if (wl_display_flush(display_) < 0)
        return false;
    return !wait || wait_frame(timeout_ms);
}

bool DmabufClient::commit()
{
    wl_surface_commit(window_->surface());
    return wl_display_flush(display_) >= 0;
}

bool DmabufClient::wait_frame(int timeout_ms) { return dispatch_until(frame_done_, timeout_ms); }

uint32_t quadrant_colour(uint32_t x, uint32_t y, uint32_t width, uint32_t height)
{
    bool right = x >= width / 2, bottom = y >= height / 2;
    if (!right && !bottom)
        return 0xff0000;
    if (right && !bottom)
        return 0x00ff00;
    if (!right)
        return 0x0000ff;
    return 0xffffff;
}

namespace {

uint32_t encode(PixelFormat format, uint32_t rgb)
{
    uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    auto ten = [](uint32_t v) { return v * 1023 / 255; };
    switch (format) {
    case PixelFormat::XRGB8888:
    case PixelFormat::ARGB8888: return 0xff000000u | r << 16 | g << 8 | b;
    case PixelFormat::XBGR8888:
    case PixelFormat::ABGR8888: return 0xff000000u | b << 16 | g << 8 | r;
    case PixelFormat::RGBA8888:
    case PixelFormat::RGBX8888: return r << 24 | g << 16 | b << 8 | 0xffu;
    case PixelFormat::BGRA8888:
    case PixelFormat::BGRX8888: return b << 24 | g << 16 | r << 8 | 0xffu;
    case PixelFormat::ARGB2101010:
    case PixelFormat::XRGB2101010: return 3u << 30 | ten(r) << 20 | ten(g) << 10 | ten(b);
    case PixelFormat::ABGR2101010:
    case PixelFormat::XBGR2101010: return 3u << 30 | ten(b) << 20 | ten(g) << 10 | ten(r);
    case PixelFormat::RGB565: return (r >> 3) << 11 | (g >> 2) << 5 | (b >> 3);
    case PixelFormat::BGR565: return (b >> 3) << 11 | (g >> 2) << 5 | (r >> 3);
    case PixelFormat::RGB888: return r << 16 | g << 8 | b;
    }
    return 0;
}

} // namespace

void fill_quadrants(void* pixels, const FormatInfo& format, uint32_t width, uint32_t height, uint32_t stride)
{
    auto* base = static_cast<unsigned char*>(pixels);
    for (uint32_t y = 0; y < height; ++y) {
        unsigned char* row = base + size_t{y} * stride;
        for (uint32_t x = 0; x < width; ++x) {
            uint32_t v = encode(format.format, quadrant_colour(x, y, width, height));
            std::memcpy(row + size_t{x} * format.bytes_per_pixel, &v, format.bytes_per_pixel);
        }
    }
}

} // namespace syncway::heaps::test
