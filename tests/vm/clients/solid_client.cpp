// vm-solid-client: a Wayland client whose window is one known colour, so a screenshot of the
// output proves its frames reach the screen; optionally a solid cursor surface of its own, so
// the cursor plane carries a client's buffer. Prints "presented WxH" once the compositor has
// shown the first frame (its frame callback fired), then stays until killed.
// With --commands it reads commands on stdin that change the cursor surface, its commits
// optionally carrying linux-drm-syncobj-v1 points whose acquire point it signals on demand.
// With --window-sync heap its window can show dma-heap buffers (direct scan-out checks).
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>
#include <syncway/heaps/allocator.hpp>
#include <syncway/heaps/cpu_access.hpp>

#include <drm_fourcc.h>

#include <syncway/mapping.hpp>
#include <syncway/unique_fd.hpp>

#include "gbm_buffer.hpp"

#include "kernel/sw_sync_timeline.hpp"

#include <linux/dma-buf.h>
#include <sys/ioctl.h>

#include <poll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

template <auto Destroy> struct Deleter {
    template <typename T> void operator()(T* p) const { Destroy(p); }
};
template <typename T, auto Destroy> using Proxy = std::unique_ptr<T, Deleter<Destroy>>;

// One wl_shm buffer filled with a colour; the pool's memfd and mapping live as long as it.
struct SolidBuffer {
    syncway::UniqueFd fd;
    syncway::Mapping map;
    Proxy<wl_buffer, wl_buffer_destroy> buffer;

    static std::unique_ptr<SolidBuffer> create(wl_shm* shm, int width, int height, uint32_t argb)
    {
        auto b = std::make_unique<SolidBuffer>();
        size_t stride = static_cast<size_t>(width) * 4, size = stride * height;
        b->fd.reset(memfd_create("vm-solid-client", MFD_CLOEXEC));
        if (!b->fd || ftruncate(b->fd.get(), static_cast<off_t>(size)) != 0)
            return nullptr;
        b->map = syncway::Mapping::map(b->fd.get(), size, PROT_READ | PROT_WRITE);
        if (!b->map)
            return nullptr;
        auto* px = b->map.as<uint32_t>();
        for (size_t i = 0; i < size / 4; ++i)
            px[i] = argb;
        Proxy<wl_shm_pool, wl_shm_pool_destroy> pool(wl_shm_create_pool(shm, b->fd.get(), static_cast<int32_t>(size)));
        b->buffer.reset(wl_shm_pool_create_buffer(pool.get(), 0, width, height, static_cast<int32_t>(stride),
                                                  WL_SHM_FORMAT_ARGB8888));
        return b;
    }

    // The same as a linux-dmabuf buffer: a LINEAR ARGB8888 dma-buf from heaps/ (a dma-buf heap,
    // else udmabuf), filled inside a DMA_BUF_IOCTL_SYNC bracket.
    static std::unique_ptr<SolidBuffer> create_dmabuf(zwp_linux_dmabuf_v1* dmabuf, int width, int height, uint32_t argb)
    {
        namespace h = syncway::heaps;
        size_t stride = static_cast<size_t>(width) * 4, size = stride * height;
        h::AllocationRequest request;
        request.size = size;
        request.debug_name = "vm-solid-client-cursor";
        auto allocated = h::Allocator().allocate(request);
        if (!allocated || !allocated->is_dmabuf()) {
            std::fprintf(stderr, "vm-solid-client: no dma-buf for the cursor: %s\n",
                         allocated ? "only a memfd (no dma-buf heap or udmabuf)" : allocated.error().message.c_str());
            return nullptr;
        }
        auto b = std::make_unique<SolidBuffer>();
        b->fd = std::move(allocated->fd);
        if (!b->fill_dmabuf(dmabuf, b->fd.get(), size, stride, DRM_FORMAT_MOD_LINEAR, width, height, argb))
            return nullptr;
        return b;
    }

    // A window buffer for direct scan-out: a LINEAR XRGB8888 (opaque) dma-buf from heaps/, its
    // dma-buf named `name` (so the kernel's view of a plane shows whose buffer it is).
    static std::unique_ptr<SolidBuffer> create_heap_window(zwp_linux_dmabuf_v1* dmabuf, int width, int height,
                                                           uint32_t argb, const std::string& name)
    {
        namespace h = syncway::heaps;
        size_t stride = static_cast<size_t>(width) * 4, size = stride * height;
        h::AllocationRequest request;
        request.size = size;
        request.debug_name = name;
        auto allocated = h::Allocator().allocate(request);
        if (!allocated || !allocated->is_dmabuf()) {
            std::fprintf(stderr, "vm-solid-client: no dma-buf for the window: %s\n",
                         allocated ? "only a memfd (no dma-buf heap or udmabuf)" : allocated.error().message.c_str());
            return nullptr;
        }
        auto b = std::make_unique<SolidBuffer>();
        b->fd = std::move(allocated->fd);
        if (!b->fill_dmabuf(dmabuf, b->fd.get(), size, stride, DRM_FORMAT_MOD_LINEAR, width, height, argb,
                            DRM_FORMAT_XRGB8888))
            return nullptr;
        return b;
    }

    // A buffer of the GL driver of the card `driver` drives, through GBM (with virgl: one its GL
    // samples on the host), with `modifier` (LINEAR, or INVALID where the compositor offers only
    // implicit modifiers).
    static std::unique_ptr<SolidBuffer> create_gbm(zwp_linux_dmabuf_v1* dmabuf, const std::string& driver, int width,
                                                   int height, uint32_t argb, uint64_t modifier)
    {
        auto gbm = syncway::vm::GbmBuffer::create(driver, static_cast<uint32_t>(width), static_cast<uint32_t>(height), argb);
        if (!gbm) {
            std::fprintf(stderr, "vm-solid-client: GBM buffer: %s\n", gbm.error().message.c_str());
            return nullptr;
        }
        auto b = std::make_unique<SolidBuffer>();
        b->gbm.emplace(std::move(gbm.value()));
        b->wrap_dmabuf(dmabuf, b->gbm->dmabuf(), b->gbm->stride(), modifier, width, height);
        return b;
    }

    // Maps the dma-buf `fd`, fills it inside a DMA_BUF_IOCTL_SYNC bracket, and wraps it in a
    // linux-dmabuf wl_buffer.
    bool fill_dmabuf(zwp_linux_dmabuf_v1* dmabuf, int dmabuf_fd, size_t size, size_t stride, uint64_t modifier,
                     int width, int height, uint32_t argb, uint32_t format = DRM_FORMAT_ARGB8888)
    {
        namespace h = syncway::heaps;
        map = syncway::Mapping::map(dmabuf_fd, size, PROT_READ | PROT_WRITE);
        if (!map) {
            std::fprintf(stderr, "vm-solid-client: mmap of a dma-buf: %s\n", std::strerror(errno));
            return false;
        }
        {
            auto access = h::CpuAccess::begin(dmabuf_fd, h::Access::Write);
            if (!access)
                return false;
            for (int y = 0; y < height; ++y) {
                auto* row = reinterpret_cast<uint32_t*>(map.as<unsigned char>() + static_cast<size_t>(y) * stride);
                for (int x = 0; x < width; ++x)
                    row[x] = argb;
            }
        }
        wrap_dmabuf(dmabuf, dmabuf_fd, stride, modifier, width, height, format);
        return true;
    }

    void wrap_dmabuf(zwp_linux_dmabuf_v1* dmabuf, int dmabuf_fd, size_t stride, uint64_t modifier, int width, int height,
                     uint32_t format = DRM_FORMAT_ARGB8888)
    {
        Proxy<zwp_linux_buffer_params_v1, zwp_linux_buffer_params_v1_destroy> params(
            zwp_linux_dmabuf_v1_create_params(dmabuf));
        zwp_linux_buffer_params_v1_add(params.get(), dmabuf_fd, 0, 0, static_cast<uint32_t>(stride),
                                       static_cast<uint32_t>(modifier >> 32),
                                       static_cast<uint32_t>(modifier & 0xffffffff));
        buffer.reset(zwp_linux_buffer_params_v1_create_immed(params.get(), width, height, format, 0));
    }

    std::optional<syncway::vm::GbmBuffer> gbm;  // owns the dma-buf when GBM allocated it
    int dmabuf_fd() const { return gbm ? gbm->dmabuf() : fd.get(); }
};

struct Client {
    uint32_t color = 0xff3366cc;
    uint32_t cursor_color = 0;  // 0: no cursor surface of our own
    int cursor_size = 32;

    Proxy<wl_display, wl_display_disconnect> display;
    Proxy<wl_registry, wl_registry_destroy> registry;
    Proxy<wl_compositor, wl_compositor_destroy> compositor;
    Proxy<wl_shm, wl_shm_destroy> shm;
    Proxy<xdg_wm_base, xdg_wm_base_destroy> wm_base;
    Proxy<wl_seat, wl_seat_destroy> seat;
    Proxy<wl_pointer, wl_pointer_destroy> pointer;
    Proxy<wl_surface, wl_surface_destroy> surface, cursor_surface;
    Proxy<xdg_surface, xdg_surface_destroy> xdg;
    Proxy<xdg_toplevel, xdg_toplevel_destroy> toplevel;
    std::unique_ptr<SolidBuffer> buffer, cursor_buffer;
    std::vector<std::unique_ptr<SolidBuffer>> old_cursor_buffers;  // never reused: no release tracking
    int width = 0, height = 0;
    bool presented = false, closed = false;
    bool commands = false;
    unsigned cursor_frames = 0;
    int redraws_left = 0;  // `frames N`: window commits still to be presented

    // --cursor-sync: the cursor surface's commits carry acquire/release points.
    bool cursor_sync = false;
    Proxy<zwp_linux_dmabuf_v1, zwp_linux_dmabuf_v1_destroy> dmabuf;
    Proxy<wp_linux_drm_syncobj_manager_v1, wp_linux_drm_syncobj_manager_v1_destroy> syncobj_manager;
    Proxy<wp_linux_drm_syncobj_surface_v1, wp_linux_drm_syncobj_surface_v1_destroy> cursor_sync_surface;
    Proxy<wp_linux_drm_syncobj_timeline_v1, wp_linux_drm_syncobj_timeline_v1_destroy> acquire, release;
    syncobj_device* dev = nullptr;
    syncway::UniqueFd acquire_fd, release_fd, signaler;  // signaler: of the held acquire point
    uint64_t point = 0;  // the last synced commit's acquire and release point (one count for both surfaces)

    // --window-sync DRIVER: `gbm-window` commits of the window (GBM buffers of DRIVER's card)
    // carry points too.
    bool window_sync = false;
    Proxy<wp_linux_drm_syncobj_surface_v1, wp_linux_drm_syncobj_surface_v1_destroy> window_sync_surface;
    std::unique_ptr<SolidBuffer> window_dmabuf;
    std::vector<std::unique_ptr<SolidBuffer>> old_window_buffers;  // kept: their release is what is checked
    std::string window_driver;
    bool window_heap = false;  // --window-sync heap: heap-window and swap-window
    // `fence-window`: a sw_sync timeline whose fence at 1 sits unsignaled, as a read fence (a
    // GPU still reading it), in the dma-buf that was the window's when the fence was put in.
    std::optional<syncway::syncobj::SwSyncTimeline> window_fence;
    int64_t window_fence_signaled_ns = 0;  // CLOCK_MONOTONIC
    bool argb_linear = false, argb_implicit = false;  // linux-dmabuf modifiers offered for ARGB8888

    // --window-sync heap: `heap-window` and `swap-window` commits (dma-heap buffers), each with
    // a wp_presentation feedback whose presented time is noted.
    Proxy<wp_presentation, wp_presentation_destroy> presentation;
    clockid_t presentation_clock = CLOCK_MONOTONIC;
    uint32_t swap_second = 0;       // swap-window: the colour committed on the first one's frame callback
    uint64_t swap_wait = 0;         // swap-window: the release point of the first one
    int64_t swap_released_ns = 0;   // when that release point signaled (0: not yet)
    int64_t swap_presented_ns = 0;  // when the second one was presented (0: not yet)
};

void on_clock_id(void* data, wp_presentation*, uint32_t clock) { static_cast<Client*>(data)->presentation_clock = clockid_t(clock); }
const wp_presentation_listener presentation_listener{on_clock_id};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* iface, uint32_t version);
void on_global_remove(void*, wl_registry*, uint32_t) {}
const wl_registry_listener registry_listener{on_global, on_global_remove};

void on_ping(void*, xdg_wm_base* base, uint32_t serial) { xdg_wm_base_pong(base, serial); }
const xdg_wm_base_listener wm_base_listener{on_ping};

void on_dmabuf_format(void*, zwp_linux_dmabuf_v1*, uint32_t) {}
void on_dmabuf_modifier(void* data, zwp_linux_dmabuf_v1*, uint32_t format, uint32_t hi, uint32_t lo)
{
    auto* c = static_cast<Client*>(data);
    uint64_t modifier = (uint64_t{hi} << 32) | lo;
    if (format == DRM_FORMAT_ARGB8888 && modifier == DRM_FORMAT_MOD_LINEAR)
        c->argb_linear = true;
    if (format == DRM_FORMAT_ARGB8888 && modifier == DRM_FORMAT_MOD_INVALID)
        c->argb_implicit = true;
}
const zwp_linux_dmabuf_v1_listener dmabuf_listener{on_dmabuf_format, on_dmabuf_modifier};

void on_frame_done(void* data, wl_callback* cb, uint32_t)
{
    auto* c = static_cast<Client*>(data);
    wl_callback_destroy(cb);
    if (!c->presented) {
        c->presented = true;
        std::printf("presented %dx%d\n", c->width, c->height);
        std::fflush(stdout);
    }
}
const wl_callback_listener frame_listener{on_frame_done};

void on_xdg_configure(void* data, xdg_surface* xdg, uint32_t serial)
{
    auto* c = static_cast<Client*>(data);
    xdg_surface_ack_configure(xdg, serial);
    int w = c->width > 0 ? c->width : 640, h = c->height > 0 ? c->height : 480;
    if (c->buffer && w == c->width && h == c->height)
        return;
    c->width = w;
    c->height = h;
    c->buffer = SolidBuffer::create(c->shm.get(), w, h, c->color);
    if (!c->buffer) {
        std::fprintf(stderr, "vm-solid-client: cannot create a %dx%d shm buffer\n", w, h);
        std::exit(1);
    }
    wl_surface_attach(c->surface.get(), c->buffer->buffer.get(), 0, 0);
    wl_surface_damage_buffer(c->surface.get(), 0, 0, w, h);
    wl_callback_add_listener(wl_surface_frame(c->surface.get()), &frame_listener, c);
    wl_surface_commit(c->surface.get());
}
const xdg_surface_listener xdg_listener{on_xdg_configure};

void on_toplevel_configure(void* data, xdg_toplevel*, int32_t w, int32_t h, wl_array*)
{
    auto* c = static_cast<Client*>(data);
    if (w > 0 && h > 0) {
        c->width = w;
        c->height = h;
    }
}
void on_toplevel_close(void* data, xdg_toplevel*) { static_cast<Client*>(data)->closed = true; }
const xdg_toplevel_listener toplevel_listener{on_toplevel_configure, on_toplevel_close};

void on_cursor_frame_done(void* data, wl_callback* cb, uint32_t)
{
    auto* c = static_cast<Client*>(data);
    wl_callback_destroy(cb);
    std::printf("cursor frame done %u\n", ++c->cursor_frames);
    std::fflush(stdout);
}
const wl_callback_listener cursor_frame_listener{on_cursor_frame_done};

void on_redraw_done(void* data, wl_callback* cb, uint32_t);
const wl_callback_listener redraw_listener{on_redraw_done};

// Commits the window's buffer again (all damaged) with a frame callback: one more frame.
void redraw(Client* c)
{
    wl_surface_attach(c->surface.get(), c->buffer->buffer.get(), 0, 0);
    wl_surface_damage_buffer(c->surface.get(), 0, 0, c->width, c->height);
    wl_callback_add_listener(wl_surface_frame(c->surface.get()), &redraw_listener, c);
    wl_surface_commit(c->surface.get());
}

void on_redraw_done(void* data, wl_callback* cb, uint32_t)
{
    auto* c = static_cast<Client*>(data);
    wl_callback_destroy(cb);
    if (--c->redraws_left > 0) {
        redraw(c);
        return;
    }
    std::printf("frames done\n");
    std::fflush(stdout);
}

[[noreturn]] void die(const char* what, int r)
{
    std::fprintf(stderr, "vm-solid-client: %s: %s (%s)\n", what, std::strerror(-r), syncobj_last_error());
    std::exit(1);
}

// Points N (acquire and release) on the commit about to be made through `surface`; `hold`
// submits the acquire point unsignaled (signal it with `signal`), else it is signaled now.
std::string set_points(Client* c, wp_linux_drm_syncobj_surface_v1* surface, bool hold)
{
    uint64_t point = ++c->point;
    if (hold) {
        int signaler = -1;
        if (int r = syncobj_submit(c->dev, c->acquire_fd.get(), point, &signaler); r < 0)
            die("syncobj_submit", r);
        c->signaler.reset(signaler);
    } else {
        int fd = c->acquire_fd.get();
        if (int r = syncobj_signal(c->dev, &fd, &point, 1); r < 0)
            die("syncobj_signal", r);
    }
    auto hi = static_cast<uint32_t>(point >> 32), lo = static_cast<uint32_t>(point);
    wp_linux_drm_syncobj_surface_v1_set_acquire_point(surface, c->acquire.get(), hi, lo);
    wp_linux_drm_syncobj_surface_v1_set_release_point(surface, c->release.get(), hi, lo);
    return "acquire " + std::to_string(point) + (hold ? " held" : " signaled") + ", release " + std::to_string(point);
}

// Attaches a new buffer of `color` to the cursor surface and commits it (with a frame
// callback). With --cursor-sync the commit carries acquire and release point N
// (on two timelines); `hold` submits the acquire point unsignaled (signal it with `signal`).
void commit_cursor(Client* c, uint32_t color, bool hold, bool dmabuf = false)
{
    int s = c->cursor_size;
    auto next = dmabuf ? SolidBuffer::create_dmabuf(c->dmabuf.get(), s, s, color)
                       : SolidBuffer::create(c->shm.get(), s, s, color);
    if (!next) {
        std::fprintf(stderr, "vm-solid-client: cannot create a %dx%d cursor buffer\n", s, s);
        std::exit(1);
    }
    if (c->cursor_buffer)
        c->old_cursor_buffers.push_back(std::move(c->cursor_buffer));
    c->cursor_buffer = std::move(next);
    c->cursor_color = color;
    wl_surface_attach(c->cursor_surface.get(), c->cursor_buffer->buffer.get(), 0, 0);
    wl_surface_damage_buffer(c->cursor_surface.get(), 0, 0, s, s);
    wl_callback_add_listener(wl_surface_frame(c->cursor_surface.get()), &cursor_frame_listener, c);
    std::string how = "plain";
    if (c->cursor_sync)
        how = set_points(c, c->cursor_sync_surface.get(), hold);
    wl_surface_commit(c->cursor_surface.get());
    std::printf("cursor %08x committed (%s%s)\n", color, dmabuf ? "linux-dmabuf, " : "wl_shm, ", how.c_str());
    std::fflush(stdout);
}

void on_pointer_enter(void* data, wl_pointer* pointer, uint32_t serial, wl_surface*, wl_fixed_t, wl_fixed_t)
{
    auto* c = static_cast<Client*>(data);
    if (!c->cursor_color)
        return;
    if (!c->cursor_buffer)
        commit_cursor(c, c->cursor_color, false);
    wl_pointer_set_cursor(pointer, serial, c->cursor_surface.get(), 0, 0);
    std::printf("cursor set\n");
    std::fflush(stdout);
}
void on_pointer_leave(void*, wl_pointer*, uint32_t, wl_surface*) {}
void on_pointer_motion(void*, wl_pointer*, uint32_t, wl_fixed_t, wl_fixed_t) {}
void on_pointer_button(void*, wl_pointer*, uint32_t, uint32_t, uint32_t, uint32_t) {}
void on_pointer_axis(void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {}
void on_pointer_frame(void*, wl_pointer*) {}
void on_pointer_axis_source(void*, wl_pointer*, uint32_t) {}
void on_pointer_axis_stop(void*, wl_pointer*, uint32_t, uint32_t) {}
void on_pointer_axis_discrete(void*, wl_pointer*, uint32_t, int32_t) {}
const wl_pointer_listener pointer_listener{on_pointer_enter, on_pointer_leave, on_pointer_motion,
                                           on_pointer_button, on_pointer_axis, on_pointer_frame,
                                           on_pointer_axis_source, on_pointer_axis_stop,
                                           on_pointer_axis_discrete};

void on_seat_caps(void* data, wl_seat* seat, uint32_t caps)
{
    auto* c = static_cast<Client*>(data);
    if ((caps & WL_SEAT_CAPABILITY_POINTER) && !c->pointer) {
        c->pointer.reset(wl_seat_get_pointer(seat));
        wl_pointer_add_listener(c->pointer.get(), &pointer_listener, c);
    }
}
void on_seat_name(void*, wl_seat*, const char*) {}
const wl_seat_listener seat_listener{on_seat_caps, on_seat_name};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* iface, uint32_t version)
{
    auto* c = static_cast<Client*>(data);
    auto bind = [&](const wl_interface* i, uint32_t max) {
        return wl_registry_bind(registry, name, i, version < max ? version : max);
    };
    if (!std::strcmp(iface, wl_compositor_interface.name))
        c->compositor.reset(static_cast<wl_compositor*>(bind(&wl_compositor_interface, 4)));
    else if (!std::strcmp(iface, wl_shm_interface.name))
        c->shm.reset(static_cast<wl_shm*>(bind(&wl_shm_interface, 1)));
    else if (!std::strcmp(iface, xdg_wm_base_interface.name)) {
        c->wm_base.reset(static_cast<xdg_wm_base*>(bind(&xdg_wm_base_interface, 1)));
        xdg_wm_base_add_listener(c->wm_base.get(), &wm_base_listener, c);
    } else if (!std::strcmp(iface, wl_seat_interface.name) && !c->seat) {
        c->seat.reset(static_cast<wl_seat*>(bind(&wl_seat_interface, 5)));
        wl_seat_add_listener(c->seat.get(), &seat_listener, c);
    } else if (!std::strcmp(iface, zwp_linux_dmabuf_v1_interface.name) && version >= 3) {
        c->dmabuf.reset(static_cast<zwp_linux_dmabuf_v1*>(bind(&zwp_linux_dmabuf_v1_interface, 3)));
        zwp_linux_dmabuf_v1_add_listener(c->dmabuf.get(), &dmabuf_listener, c);
    } else if (!std::strcmp(iface, wp_presentation_interface.name)) {
        c->presentation.reset(static_cast<wp_presentation*>(bind(&wp_presentation_interface, 1)));
        wp_presentation_add_listener(c->presentation.get(), &presentation_listener, c);
    } else if (!std::strcmp(iface, wp_linux_drm_syncobj_manager_v1_interface.name)) {
        c->syncobj_manager.reset(
            static_cast<wp_linux_drm_syncobj_manager_v1*>(bind(&wp_linux_drm_syncobj_manager_v1_interface, 1)));
    }
}

void on_window_frame_done(void*, wl_callback* cb, uint32_t)
{
    wl_callback_destroy(cb);
    std::printf("window frame done\n");
    std::fflush(stdout);
}
const wl_callback_listener window_frame_listener{on_window_frame_done};

// `gbm-window`: a new GBM dma-buf of `color` replaces the window's buffer, with points.
void commit_gbm_window(Client* c, uint32_t color)
{
    if (!c->argb_linear && !c->argb_implicit) {
        std::printf("gbm-window failed: the compositor offers no LINEAR or implicit modifier for ARGB8888\n");
        return;
    }
    uint64_t modifier = c->argb_linear ? DRM_FORMAT_MOD_LINEAR : DRM_FORMAT_MOD_INVALID;
    auto next = SolidBuffer::create_gbm(c->dmabuf.get(), c->window_driver, c->width, c->height, color, modifier);
    if (!next) {
        std::printf("gbm-window failed: no %dx%d GBM buffer on %s's card (see stderr)\n", c->width, c->height,
                    c->window_driver.c_str());
        return;
    }
    if (c->window_dmabuf)
        c->old_window_buffers.push_back(std::move(c->window_dmabuf));
    // Made at the first synced commit: the wl_shm commits before it carry no points.
    if (!c->window_sync_surface)
        c->window_sync_surface.reset(
            wp_linux_drm_syncobj_manager_v1_get_surface(c->syncobj_manager.get(), c->surface.get()));
    c->window_dmabuf = std::move(next);
    wl_surface_attach(c->surface.get(), c->window_dmabuf->buffer.get(), 0, 0);
    wl_surface_damage_buffer(c->surface.get(), 0, 0, c->width, c->height);
    wl_callback_add_listener(wl_surface_frame(c->surface.get()), &window_frame_listener, c);
    std::string how = set_points(c, c->window_sync_surface.get(), false);
    wl_surface_commit(c->surface.get());
    std::printf("window %08x committed (linux-dmabuf, %s GBM buffer, %s modifier, %s)\n", color,
                c->window_driver.c_str(),
                c->argb_linear ? "LINEAR" : "implicit", how.c_str());
}

int64_t monotonic_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// wp_presentation feedback of one window commit (point N): prints "window N presented" or
// "window N discarded".
struct WindowFeedback {
    Client* c;
    uint64_t point;
};
void swap_report(Client* c);
void on_feedback_sync_output(void*, struct wp_presentation_feedback*, wl_output*) {}
void on_feedback_presented(void* data, struct wp_presentation_feedback* fb, uint32_t sec_hi, uint32_t sec_lo, uint32_t nsec,
                           uint32_t, uint32_t, uint32_t, uint32_t flags)
{
    auto* f = static_cast<WindowFeedback*>(data);
    Client* c = f->c;
    int64_t when = int64_t((uint64_t{sec_hi} << 32) | sec_lo) * 1000000000LL + nsec;
    // wlroots sets zero-copy only for a per-commit client buffer on the plane; syncway scans
    // out the wl_buffer itself, so the plane's framebuffer (vm-kernel-probe) is the evidence.
    std::printf("window %llu presented%s\n", static_cast<unsigned long long>(f->point),
                flags & WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY ? " (zero-copy)" : "");
    if (c->swap_wait && f->point == c->swap_wait + 1) {
        c->swap_presented_ns = when;
        swap_report(c);
    }
    std::fflush(stdout);
    wp_presentation_feedback_destroy(fb);
    delete f;
}
void on_feedback_discarded(void* data, struct wp_presentation_feedback* fb)
{
    auto* f = static_cast<WindowFeedback*>(data);
    std::printf("window %llu discarded\n", static_cast<unsigned long long>(f->point));
    std::fflush(stdout);
    wp_presentation_feedback_destroy(fb);
    delete f;
}
const wp_presentation_feedback_listener feedback_listener{on_feedback_sync_output, on_feedback_presented,
                                                         on_feedback_discarded};

void on_swap_frame_done(void* data, wl_callback* cb, uint32_t);
const wl_callback_listener swap_frame_listener{on_swap_frame_done};

// `heap-window`: a new dma-heap buffer of `color`, the window's size, replaces the window's
// buffer with points N (acquire signaled), a frame callback (`frame_listener`: null prints
// "window frame done") and a presentation feedback. Its dma-buf is named vm-window-N.
bool commit_heap_window(Client* c, uint32_t color, const wl_callback_listener* frame_listener)
{
    uint64_t point = c->point + 1;
    auto next = SolidBuffer::create_heap_window(c->dmabuf.get(), c->width, c->height, color,
                                                "vm-window-" + std::to_string(point));
    if (!next) {
        std::printf("heap-window failed: no %dx%d dma-buf from heaps/ (see stderr)\n", c->width, c->height);
        return false;
    }
    if (c->window_dmabuf)
        c->old_window_buffers.push_back(std::move(c->window_dmabuf));
    if (!c->window_sync_surface)
        c->window_sync_surface.reset(
            wp_linux_drm_syncobj_manager_v1_get_surface(c->syncobj_manager.get(), c->surface.get()));
    c->window_dmabuf = std::move(next);
    wl_surface_attach(c->surface.get(), c->window_dmabuf->buffer.get(), 0, 0);
    wl_surface_damage_buffer(c->surface.get(), 0, 0, c->width, c->height);
    wl_callback_add_listener(wl_surface_frame(c->surface.get()), frame_listener ? frame_listener : &window_frame_listener, c);
    if (c->presentation)
        wp_presentation_feedback_add_listener(wp_presentation_feedback(c->presentation.get(), c->surface.get()),
                                              &feedback_listener, new WindowFeedback{c, point});
    std::string how = set_points(c, c->window_sync_surface.get(), false);
    wl_surface_commit(c->surface.get());
    std::printf("window %08x committed (linux-dmabuf, dma-buf vm-window-%llu, XRGB8888 LINEAR, %s)\n", color,
                static_cast<unsigned long long>(point), how.c_str());
    std::fflush(stdout);
    return true;
}

// Prints the swap's verdict once both times are known.
void swap_report(Client* c)
{
    if (!c->swap_wait || !c->swap_released_ns || !c->swap_presented_ns)
        return;
    if (c->presentation_clock != CLOCK_MONOTONIC)
        std::printf("swap: release %llu: cannot compare, the presentation clock is %d, not CLOCK_MONOTONIC\n",
                    static_cast<unsigned long long>(c->swap_wait), int(c->presentation_clock));
    else
        std::printf("swap: release %llu signaled %.1f ms after window %llu was presented\n",
                    static_cast<unsigned long long>(c->swap_wait), (c->swap_released_ns - c->swap_presented_ns) / 1e6,
                    static_cast<unsigned long long>(c->swap_wait + 1));
    std::fflush(stdout);
    c->swap_wait = 0;
}

// `swap-window A B`: heap window A; the moment its frame callback comes (syncway has just
// committed it, its page flip still to come), heap window B. Then waits for A's release point
// and compares when it signaled with when B was presented: a release before B is on screen
// would let the client write A while the display still reads it.
void on_swap_frame_done(void* data, wl_callback* cb, uint32_t)
{
    auto* c = static_cast<Client*>(data);
    wl_callback_destroy(cb);
    uint64_t first = c->point;
    if (!commit_heap_window(c, c->swap_second, nullptr))
        return;
    c->swap_wait = first;
    wl_display_flush(c->display.get());
    int fd = c->release_fd.get();
    int r = syncobj_wait(c->dev, &fd, &first, 1, monotonic_ns() + 5000000000LL, SYNCOBJ_WAIT_FOR_SUBMIT, nullptr);
    if (r < 0) {
        std::printf("swap: release %llu not signaled within 5 s: %s\n", static_cast<unsigned long long>(first),
                    syncobj_last_error());
        c->swap_wait = 0;
    } else {
        c->swap_released_ns = monotonic_ns();
    }
    std::fflush(stdout);
    swap_report(c);
}

// `wait-release N`: blocks (at most 5 s) until release point N signals; prints how long after
// the window fence's signal that was.
void wait_release(Client* c, uint64_t point)
{
    int fd = c->release_fd.get();
    int r = syncobj_wait(c->dev, &fd, &point, 1, monotonic_ns() + 5000000000LL, SYNCOBJ_WAIT_FOR_SUBMIT, nullptr);
    int64_t now = monotonic_ns();
    if (r < 0)
        std::printf("release %llu not signaled: %s\n", static_cast<unsigned long long>(point), syncobj_last_error());
    else
        std::printf("release %llu signaled %.1f ms after the window fence\n", static_cast<unsigned long long>(point),
                    (now - c->window_fence_signaled_ns) / 1e6);
}

// `fence-window`: an unsignaled sw_sync fence goes into the window buffer's dma-buf as a read
// fence (DMA_BUF_IOCTL_IMPORT_SYNC_FILE, Linux 6.0+), standing in for a GPU still sampling it.
// "" or why not.
std::string attach_read_fence(Client* c)
{
    auto timeline = syncway::syncobj::SwSyncTimeline::open();
    if (!timeline)
        return timeline.error().message;
    auto fence = timeline->create_fence(1, "vm-solid-client");
    if (!fence)
        return fence.error().message;
    dma_buf_import_sync_file import{};
    import.flags = DMA_BUF_SYNC_READ;
    import.fd = fence->get();
    if (ioctl(c->window_dmabuf->dmabuf_fd(), DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &import) != 0)
        return std::string("DMA_BUF_IOCTL_IMPORT_SYNC_FILE: ") + std::strerror(errno);
    c->window_fence.emplace(std::move(timeline.value()));
    return "";
}

bool parse_color(const char* text, uint32_t& out)
{
    char* end = nullptr;
    unsigned long v = std::strtoul(text, &end, 16);
    if (!*text || *end || v > 0xffffffffUL)
        return false;
    out = static_cast<uint32_t>(v);
    return true;
}

// One command line from stdin (see --help); false at end of input.
bool run_command(Client* c, const std::string& line)
{
    uint32_t color = 0;
    if (line.rfind("cursor ", 0) == 0 && parse_color(line.c_str() + 7, color)) {
        commit_cursor(c, color, false);
    } else if (line.rfind("dmabuf-cursor ", 0) == 0 && c->dmabuf && parse_color(line.c_str() + 14, color)) {
        commit_cursor(c, color, false, true);
    } else if (line.rfind("hold ", 0) == 0 && c->cursor_sync && parse_color(line.c_str() + 5, color)) {
        commit_cursor(c, color, true);
    } else if (line.rfind("frames ", 0) == 0 && c->buffer && !c->window_sync_surface && std::atoi(line.c_str() + 7) > 0) {
        c->redraws_left = std::atoi(line.c_str() + 7);
        redraw(c);
    } else if (line == "signal" && c->signaler) {
        if (int r = syncobj_signaler_signal(c->dev, c->signaler.get()); r < 0)
            die("syncobj_signaler_signal", r);
        c->signaler.reset();
        std::printf("acquire %llu signaled\n", static_cast<unsigned long long>(c->point));
    } else if (line.rfind("gbm-window ", 0) == 0 && c->window_sync && c->buffer && parse_color(line.c_str() + 11, color)) {
        commit_gbm_window(c, color);
    } else if (line.rfind("heap-window ", 0) == 0 && c->window_heap && c->buffer && parse_color(line.c_str() + 12, color)) {
        commit_heap_window(c, color, nullptr);
    } else if (line.rfind("swap-window ", 0) == 0 && c->window_heap && c->buffer && !c->swap_wait) {
        uint32_t second = 0;
        std::string rest = line.substr(12);
        size_t space = rest.find(' ');
        if (space != std::string::npos && parse_color(rest.substr(0, space).c_str(), color) &&
            parse_color(rest.substr(space + 1).c_str(), second)) {
            c->swap_second = second;
            c->swap_released_ns = c->swap_presented_ns = 0;
            commit_heap_window(c, color, &swap_frame_listener);
        } else {
            std::printf("bad command '%s'\n", line.c_str());
        }
    } else if (line == "fence-window" && c->window_dmabuf && !c->window_fence) {
        if (auto why = attach_read_fence(c); !why.empty())
            std::printf("fence-window failed: %s\n", why.c_str());
        else
            std::printf("window fence attached\n");
    } else if (line == "signal-window-fence" && c->window_fence) {
        if (auto sig = c->window_fence->advance(); !sig)
            std::printf("signal-window-fence failed: %s\n", sig.error().message.c_str());
        else {
            c->window_fence_signaled_ns = monotonic_ns();
            std::printf("window fence signaled\n");
        }
        c->window_fence.reset();
    } else if (line.rfind("wait-release ", 0) == 0 && c->dev && c->window_fence_signaled_ns) {
        wait_release(c, std::strtoull(line.c_str() + 13, nullptr, 10));
    } else if (line.rfind("release ", 0) == 0 && c->dev) {
        uint64_t point = std::strtoull(line.c_str() + 8, nullptr, 10);
        enum syncobj_point_state state {};
        if (int r = syncobj_point_state(c->dev, c->release_fd.get(), point, &state, nullptr); r < 0)
            die("syncobj_point_state", r);
        std::printf("release %llu %s\n", static_cast<unsigned long long>(point),
                    state == SYNCOBJ_POINT_SIGNALED ? "signaled" : state == SYNCOBJ_POINT_FAILED ? "failed" : "pending");
    } else {
        std::printf("bad command '%s'\n", line.c_str());
    }
    std::fflush(stdout);
    return true;
}

// Waits for Wayland events and, with --commands, stdin lines; false when the connection ends.
bool dispatch(Client* c, std::string& input)
{
    wl_display* d = c->display.get();
    while (wl_display_prepare_read(d) != 0)
        if (wl_display_dispatch_pending(d) < 0)
            return false;
    wl_display_flush(d);
    pollfd fds[2] = {{wl_display_get_fd(d), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int n = poll(fds, c->commands ? 2 : 1, -1);
    if (n < 0) {
        wl_display_cancel_read(d);
        return errno == EINTR;
    }
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
        if (wl_display_read_events(d) < 0)
            return false;
    } else {
        wl_display_cancel_read(d);
    }
    if (wl_display_dispatch_pending(d) < 0)
        return false;
    if (c->commands && (fds[1].revents & (POLLIN | POLLHUP))) {
        char chunk[256];
        ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
        if (got <= 0) {
            c->commands = false;  // end of commands: keep showing the window
        } else {
            input.append(chunk, static_cast<size_t>(got));
            for (size_t nl; (nl = input.find('\n')) != std::string::npos;) {
                std::string line = input.substr(0, nl);
                input.erase(0, nl + 1);
                if (!line.empty())
                    run_command(c, line);
            }
        }
    }
    return wl_display_flush(d) >= 0 || errno == EAGAIN;
}

// --cursor-sync, --window-sync: the timelines, and the syncobj objects of the surfaces whose
// commits carry points.
void setup_sync(Client* c)
{
    if (!c->syncobj_manager) {
        std::fprintf(stderr, "vm-solid-client: the compositor does not offer wp_linux_drm_syncobj_manager_v1\n");
        std::exit(1);
    }
    if (int r = syncobj_open(SYNCOBJ_BACKEND_AUTO, &c->dev); r < 0)
        die("syncobj_open", r);
    int a = -1, r = -1;
    if (int e = syncobj_create(c->dev, 0, &a); e < 0)
        die("syncobj_create", e);
    c->acquire_fd.reset(a);
    if (int e = syncobj_create(c->dev, 0, &r); e < 0)
        die("syncobj_create", e);
    c->release_fd.reset(r);
    c->acquire.reset(wp_linux_drm_syncobj_manager_v1_import_timeline(c->syncobj_manager.get(), a));
    c->release.reset(wp_linux_drm_syncobj_manager_v1_import_timeline(c->syncobj_manager.get(), r));
    if (c->cursor_sync)
        c->cursor_sync_surface.reset(
            wp_linux_drm_syncobj_manager_v1_get_surface(c->syncobj_manager.get(), c->cursor_surface.get()));
}

} // namespace

int main(int argc, char** argv)
{
    Client c;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        bool has_value = i + 1 < argc;
        if (a == "--color" && has_value && parse_color(argv[i + 1], c.color))
            ++i;
        else if (a == "--cursor-color" && has_value && parse_color(argv[i + 1], c.cursor_color))
            ++i;
        else if (a == "--cursor-sync")
            c.cursor_sync = true;
        else if (a == "--window-sync" && i + 1 < argc) {
            c.window_sync = true;
            c.window_driver = argv[++i];
            c.window_heap = c.window_driver == "heap";
        }
        else if (a == "--commands")
            c.commands = true;
        else {
            std::fprintf(a == "--help" ? stdout : stderr,
                         "usage: vm-solid-client [--color AARRGGBB] [--cursor-color AARRGGBB] [--cursor-sync] [--window-sync DRIVER]\n"
                         "                       [--commands]\n"
                         "A window of one colour (default ff3366cc); with --cursor-color, a 32x32 cursor\n"
                         "surface of that colour while the pointer is over it. Prints \"presented WxH\"\n"
                         "when the first frame is on screen; runs until killed.\n"
                         "  --cursor-sync  cursor commits carry linux-drm-syncobj-v1 acquire and release point N\n"
                         "                 (the Nth cursor commit) on two timelines of $SYNCWAY_SYNCOBJ_SOCKET's service\n"
                         "  --window-sync DRIVER  allow gbm-window: window commits of GBM buffers of the card\n"
                         "                 DRIVER drives (one Mesa has a GL driver for: virtio_gpu with virgl)\n"
                         "                 with points on the same timelines; DRIVER heap: heap-window and\n"
                         "                 swap-window instead (dma-heap buffers)\n"
                         "  --commands     read commands on stdin, one a line:\n"
                         "                   cursor AARRGGBB  commit a cursor buffer of that colour\n"
                         "                   dmabuf-cursor AARRGGBB  the same as a linux-dmabuf buffer (a dma-buf\n"
                         "                                    from a dma-buf heap or udmabuf)\n"
                         "                   hold AARRGGBB    the same with its acquire point unsignaled (--cursor-sync)\n"
                         "                   signal           signal the held acquire point\n"
                         "                   frames N         present N more frames of the window (damaged\n"
                         "                                    in full), then print \"frames done\"\n"
                         "                   release N        print \"release N signaled|pending|failed\"\n"
                         "                   gbm-window AARRGGBB  (--window-sync) a new GBM dma-buf of that colour\n"
                         "                                    replaces the window's buffer, acquire point N\n"
                         "                                    signaled, release point N; prints \"window frame done\"\n"
                         "                   heap-window AARRGGBB  (--window-sync heap) an opaque XRGB8888 dma-buf\n"
                         "                                    from heaps/ named vm-window-N replaces the window's\n"
                         "                                    buffer (points N); prints \"window frame done\" and\n"
                         "                                    \"window N presented\"\n"
                         "                   swap-window A B  (--window-sync heap) heap-window A, and at its frame\n"
                         "                                    callback heap-window B; prints \"swap: release N\n"
                         "                                    signaled T ms after window N+1 was presented\"\n"
                         "                   fence-window     put an unsignaled sw_sync fence into the window's current\n"
                         "                                    dma-buf as a read fence (root: debugfs)\n"
                         "                   signal-window-fence  signal that fence\n"
                         "                   wait-release N   wait (at most 5 s) for release point N; print \"release N\n"
                         "                                    signaled T ms after the window fence\" or why not\n"
                         "Prints \"cursor set\", \"cursor AARRGGBB committed (...)\", \"cursor frame done N\", and \"... failed: WHY\"\n"
                         "when a command cannot be carried out.\n%s",
                         a == "--help" ? "" : ("vm-solid-client: bad argument '" + a + "'\n").c_str());
            return a == "--help" ? 0 : 2;
        }
    }
    c.display.reset(wl_display_connect(nullptr));
    if (!c.display) {
        std::fprintf(stderr, "vm-solid-client: cannot connect to WAYLAND_DISPLAY=%s\n",
                     std::getenv("WAYLAND_DISPLAY") ? std::getenv("WAYLAND_DISPLAY") : "(unset)");
        return 1;
    }
    c.registry.reset(wl_display_get_registry(c.display.get()));
    wl_registry_add_listener(c.registry.get(), &registry_listener, &c);
    wl_display_roundtrip(c.display.get());
    if (!c.compositor || !c.shm || !c.wm_base) {
        std::fprintf(stderr, "vm-solid-client: the compositor lacks wl_compositor, wl_shm or xdg_wm_base\n");
        return 1;
    }
    c.surface.reset(wl_compositor_create_surface(c.compositor.get()));
    c.cursor_surface.reset(wl_compositor_create_surface(c.compositor.get()));
    c.xdg.reset(xdg_wm_base_get_xdg_surface(c.wm_base.get(), c.surface.get()));
    xdg_surface_add_listener(c.xdg.get(), &xdg_listener, &c);
    c.toplevel.reset(xdg_surface_get_toplevel(c.xdg.get()));
    xdg_toplevel_add_listener(c.toplevel.get(), &toplevel_listener, &c);
    xdg_toplevel_set_title(c.toplevel.get(), "vm-solid-client");
    if (c.window_sync && !c.dmabuf) {
        std::fprintf(stderr, "vm-solid-client: --window-sync needs zwp_linux_dmabuf_v1 version 3, which the compositor does not offer\n");
        return 1;
    }
    if (c.cursor_sync || c.window_sync)
        setup_sync(&c);
    wl_display_roundtrip(c.display.get());  // linux-dmabuf's formats and modifiers
    wl_surface_commit(c.surface.get());
    std::string input;
    while (!c.closed && dispatch(&c, input)) {
    }
    // Release protocol objects before the display goes.
    c.toplevel.reset();
    c.xdg.reset();
    c.cursor_sync_surface.reset();
    c.window_sync_surface.reset();
    if (c.dev)
        syncobj_close(c.dev);
    return c.closed ? 0 : 1;
}
