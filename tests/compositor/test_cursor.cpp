// The cursor: the xcursor image is drawn where the pointer is, and a client's
// wl_pointer.set_cursor surface replaces it while the pointer is over that client.
#include "compositor_fixture.hpp"

#include "xdg-shell-client-protocol.h"

#include <syncway/testing/shm_buffers.hpp>

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string_view>

using namespace syncway::test;

namespace {

// An shm buffer of one colour (ARGB8888).
wl_buffer* solid_buffer(wl_shm* shm, int width, int height, uint32_t argb)
{
    return syncway::testing::solid_shm_buffer(shm, width, height, argb, WL_SHM_FORMAT_ARGB8888);
}

// A blue window that, once the pointer enters it, shows a 16x16 red cursor surface.
struct CursorClient {
    wl_display* display = nullptr;
    wl_registry* registry = nullptr;
    wl_compositor* compositor = nullptr;
    wl_shm* shm = nullptr;
    wl_seat* seat = nullptr;
    xdg_wm_base* wm_base = nullptr;
    wl_pointer* pointer = nullptr;
    wl_surface* surface = nullptr;
    wl_surface* cursor_surface = nullptr;
    xdg_surface* xdg = nullptr;
    xdg_toplevel* toplevel = nullptr;
    wl_buffer* window_buffer = nullptr;
    wl_buffer* cursor_buffer = nullptr;
    int32_t width = 0, height = 0;
    uint32_t configure_serial = 0;
    bool configured = false;
    bool cursor_set = false;

    ~CursorClient()
    {
        for (wl_buffer* b : {window_buffer, cursor_buffer})
            if (b)
                wl_buffer_destroy(b);
        if (toplevel)
            xdg_toplevel_destroy(toplevel);
        if (xdg)
            xdg_surface_destroy(xdg);
        for (wl_surface* s : {surface, cursor_surface})
            if (s)
                wl_surface_destroy(s);
        if (pointer)
            wl_pointer_release(pointer);
        if (wm_base)
            xdg_wm_base_destroy(wm_base);
        if (seat)
            wl_seat_release(seat);
        if (shm)
            wl_shm_destroy(shm);
        if (compositor)
            wl_compositor_destroy(compositor);
        if (registry)
            wl_registry_destroy(registry);
        if (display)
            wl_display_disconnect(display);
    }
};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t)
{
    auto* c = static_cast<CursorClient*>(data);
    std::string_view iface(interface);
    if (iface == wl_compositor_interface.name)
        c->compositor = static_cast<wl_compositor*>(wl_registry_bind(registry, name, &wl_compositor_interface, 4));
    else if (iface == wl_shm_interface.name)
        c->shm = static_cast<wl_shm*>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
    else if (iface == wl_seat_interface.name)
        c->seat = static_cast<wl_seat*>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
    else if (iface == xdg_wm_base_interface.name)
        c->wm_base = static_cast<xdg_wm_base*>(wl_registry_bind(registry, name, &xdg_wm_base_interface, 1));
}
const wl_registry_listener registry_listener = {on_global, [](void*, wl_registry*, uint32_t) {}};

const wl_pointer_listener pointer_listener = {
    .enter =
        [](void* data, wl_pointer* pointer, uint32_t serial, wl_surface*, wl_fixed_t, wl_fixed_t) {
            auto* c = static_cast<CursorClient*>(data);
            wl_pointer_set_cursor(pointer, serial, c->cursor_surface, 0, 0);
            c->cursor_set = true;
        },
    .leave = [](void*, wl_pointer*, uint32_t, wl_surface*) {},
    .motion = [](void*, wl_pointer*, uint32_t, wl_fixed_t, wl_fixed_t) {},
    .button = [](void*, wl_pointer*, uint32_t, uint32_t, uint32_t, uint32_t) {},
    .axis = [](void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {},
    .frame = [](void*, wl_pointer*) {},
    .axis_source = [](void*, wl_pointer*, uint32_t) {},
    .axis_stop = [](void*, wl_pointer*, uint32_t, uint32_t) {},
    .axis_discrete = [](void*, wl_pointer*, uint32_t, int32_t) {},
};
const xdg_wm_base_listener wm_base_listener = {[](void*, xdg_wm_base* b, uint32_t serial) { xdg_wm_base_pong(b, serial); }};
const xdg_surface_listener surface_listener = {[](void* data, xdg_surface*, uint32_t serial) {
    auto* c = static_cast<CursorClient*>(data);
    c->configure_serial = serial;
    c->configured = true;
}};
const xdg_toplevel_listener toplevel_listener = {
    [](void* data, xdg_toplevel*, int32_t w, int32_t h, wl_array*) {
        auto* c = static_cast<CursorClient*>(data);
        c->width = w;
        c->height = h;
    },
    [](void*, xdg_toplevel*) {}};

// Pumps events for up to timeout, until done() holds.
bool pump(CursorClient& c, std::chrono::milliseconds timeout, const std::function<bool()>& done)
{
    return wait_until(
        [&] {
            wl_display_flush(c.display);
            pollfd p{wl_display_get_fd(c.display), POLLIN, 0};
            if (poll(&p, 1, 0) > 0 && wl_display_dispatch(c.display) < 0)
                return true;  // connection lost: let the caller's checks fail
            wl_display_dispatch_pending(c.display);
            return done();
        },
        timeout);
}

constexpr Rgb blue{0, 0, 255};
constexpr Rgb red{255, 0, 0};

} // namespace

TEST(Cursor, XcursorImageThenClientCursorSurface)
{
    Compositor compositor({"--output", "640x480"});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();

    // Before any client: the theme's arrow at the pointer (0,0), on the black background.
    constexpr Rect corner{0, 0, 16, 16};
    auto arrow = compositor.wait_for_screenshot(
        [&](const Image& image) { return image.count(corner, [](Rgb p) { return !(p == background); }) > 10; });
    ASSERT_TRUE(arrow) << "no screenshot";
    EXPECT_GT(arrow->count(corner, [](Rgb p) { return !(p == background); }), size_t(10))
        << "no cursor image drawn at the pointer";

    CursorClient c;
    std::string path = compositor.runtime_dir() + "/" + compositor.socket();
    c.display = wl_display_connect(path.c_str());
    ASSERT_NE(c.display, nullptr);
    c.registry = wl_display_get_registry(c.display);
    wl_registry_add_listener(c.registry, &registry_listener, &c);
    ASSERT_GE(wl_display_roundtrip(c.display), 0);
    ASSERT_TRUE(c.compositor && c.shm && c.seat && c.wm_base);
    xdg_wm_base_add_listener(c.wm_base, &wm_base_listener, &c);
    c.pointer = wl_seat_get_pointer(c.seat);
    wl_pointer_add_listener(c.pointer, &pointer_listener, &c);
    c.cursor_surface = wl_compositor_create_surface(c.compositor);
    c.cursor_buffer = solid_buffer(c.shm, 16, 16, 0xffff0000);
    wl_surface_attach(c.cursor_surface, c.cursor_buffer, 0, 0);
    wl_surface_damage(c.cursor_surface, 0, 0, 16, 16);
    wl_surface_commit(c.cursor_surface);

    c.surface = wl_compositor_create_surface(c.compositor);
    c.xdg = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
    xdg_surface_add_listener(c.xdg, &surface_listener, &c);
    c.toplevel = xdg_surface_get_toplevel(c.xdg);
    xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, &c);
    wl_surface_commit(c.surface);
    ASSERT_TRUE(pump(c, client_timeout, [&] { return c.configured; }));
    // Configured to fill the output.
    EXPECT_EQ(c.width, 640);
    EXPECT_EQ(c.height, 480);
    xdg_surface_ack_configure(c.xdg, c.configure_serial);
    c.window_buffer = solid_buffer(c.shm, std::max(c.width, 1), std::max(c.height, 1), 0xff0000ff);
    wl_surface_attach(c.surface, c.window_buffer, 0, 0);
    wl_surface_damage(c.surface, 0, 0, c.width, c.height);
    wl_surface_commit(c.surface);

    // Mapped under the pointer: it gets wl_pointer.enter and sets its cursor.
    ASSERT_TRUE(pump(c, client_timeout, [&] { return c.cursor_set; })) << "no wl_pointer.enter";
    std::optional<Image> shot;
    bool shown = pump(c, client_timeout, [&] {
        shot = compositor.screenshot();
        return shot && shot->at(8, 8) == red && shot->at(100, 100) == blue;
    });
    ASSERT_TRUE(shot);
    EXPECT_TRUE(shown) << "at (8,8): " << int(shot->at(8, 8).r) << "," << int(shot->at(8, 8).g) << ","
                       << int(shot->at(8, 8).b) << "; at (100,100): " << int(shot->at(100, 100).r) << ","
                       << int(shot->at(100, 100).g) << "," << int(shot->at(100, 100).b);
}
