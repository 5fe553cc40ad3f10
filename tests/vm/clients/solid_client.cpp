// vm-solid-client: a Wayland client whose window is one known colour, so a screenshot of the
// output proves its frames reach the screen; optionally a solid cursor surface of its own, so
// the cursor plane carries a client's buffer. Prints "presented WxH" once the compositor has
// shown the first frame (its frame callback fired), then stays until killed.
#include "xdg-shell-client-protocol.h"

#include <syncway/mapping.hpp>
#include <syncway/unique_fd.hpp>

#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

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
    int width = 0, height = 0;
    bool presented = false, closed = false;
};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* iface, uint32_t version);
void on_global_remove(void*, wl_registry*, uint32_t) {}
const wl_registry_listener registry_listener{on_global, on_global_remove};

void on_ping(void*, xdg_wm_base* base, uint32_t serial) { xdg_wm_base_pong(base, serial); }
const xdg_wm_base_listener wm_base_listener{on_ping};

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

void on_pointer_enter(void* data, wl_pointer* pointer, uint32_t serial, wl_surface*, wl_fixed_t, wl_fixed_t)
{
    auto* c = static_cast<Client*>(data);
    if (!c->cursor_color)
        return;
    int s = c->cursor_size;
    if (!c->cursor_buffer)
        c->cursor_buffer = SolidBuffer::create(c->shm.get(), s, s, c->cursor_color);
    if (!c->cursor_buffer)
        return;
    wl_surface_attach(c->cursor_surface.get(), c->cursor_buffer->buffer.get(), 0, 0);
    wl_surface_damage_buffer(c->cursor_surface.get(), 0, 0, s, s);
    wl_surface_commit(c->cursor_surface.get());
    wl_pointer_set_cursor(pointer, serial, c->cursor_surface.get(), 0, 0);
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
    }
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
        else {
            std::fprintf(a == "--help" ? stdout : stderr,
                         "usage: vm-solid-client [--color AARRGGBB] [--cursor-color AARRGGBB]\n"
                         "A window of one colour (default ff3366cc); with --cursor-color, a 32x32 cursor\n"
                         "surface of that colour while the pointer is over it. Prints \"presented WxH\"\n"
                         "when the first frame is on screen; runs until killed.\n%s",
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
    wl_surface_commit(c.surface.get());
    while (!c.closed && wl_display_dispatch(c.display.get()) != -1) {
    }
    // Release protocol objects before the display goes.
    c.toplevel.reset();
    c.xdg.reset();
    return c.closed ? 0 : 1;
}
