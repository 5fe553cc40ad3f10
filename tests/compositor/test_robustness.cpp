// A client that sends garbage is disconnected; the others keep being served.
#include "compositor_fixture.hpp"

#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncway/testing/core_globals.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string_view>

using namespace syncway::test;

namespace {

int connect_raw(const std::string& path)
{
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// True once the server closed the connection (EOF or reset), within the timeout.
bool disconnected(int fd, std::chrono::milliseconds timeout)
{
    return wait_until(
        [&] {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0)
                return false;
            char buf[4096];
            ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        },
        timeout);
}

} // namespace

TEST(Robustness, GarbageClientIsDisconnectedOthersKeepWorking)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    Process good({"weston-simple-shm"}, compositor.client_env());
    constexpr Rect area{40, 40, 170, 170};
    auto drawn = [&](const Image& image) { return image.distinct_colors(area) > 50; };
    auto before = compositor.wait_for_screenshot(drawn);
    ASSERT_TRUE(before && drawn(*before)) << good.output();

    std::string path = compositor.runtime_dir() + "/" + compositor.socket();
    // 1: a request to an object that does not exist.  2: a header claiming a size smaller than
    // the header itself.  3: a valid wl_display.get_registry followed by a bind with a bogus name.
    const std::vector<std::vector<uint32_t>> garbage = {
        {77, (12u << 16) | 0, 1},
        {1, (4u << 16) | 0},
        {1, (12u << 16) | 1, 2, 2, (24u << 16) | 0, 999, 0, 1, 3},
    };
    for (const auto& words : garbage) {
        int fd = connect_raw(path);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::send(fd, words.data(), words.size() * 4, MSG_NOSIGNAL), ssize_t(words.size() * 4));
        EXPECT_TRUE(disconnected(fd, 10s)) << "garbage client " << words[0] << " was not disconnected";
        ::close(fd);
    }

    ASSERT_TRUE(compositor.process().running()) << compositor.process().output();
    RunResult info = run({"wayland-info"}, compositor.client_env());
    EXPECT_EQ(info.exit_code, 0) << info.output;
    // The well-behaved client still gets new frames on screen.
    auto after = compositor.wait_for_screenshot(
        [&](const Image& image) { return drawn(image) && !image.same_pixels(*before, area); });
    EXPECT_TRUE(after && !after->same_pixels(*before, area)) << good.output();
    EXPECT_TRUE(good.running()) << good.output();
}

namespace {

struct RoleGlobals {
    syncway::testing::CoreGlobals core;
    wp_presentation* presentation = nullptr;
    static void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t)
    {
        auto* self = static_cast<RoleGlobals*>(data);
        if (!self->core.bind(registry, name, interface) && std::string_view(interface) == wp_presentation_interface.name)
            self->presentation =
                static_cast<wp_presentation*>(wl_registry_bind(registry, name, &wp_presentation_interface, 1));
    }
};

} // namespace

// A client destroys a wl_surface before its xdg_surface and xdg_toplevel (wlroots 0.15 leaves
// them inert) and then keeps using them: every request is ignored, the compositor lives on.
TEST(Robustness, RequestsOnRoleObjectsOfADestroyedSurface)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    std::string path = compositor.runtime_dir() + "/" + compositor.socket();
    wl_display* display = wl_display_connect(path.c_str());
    ASSERT_TRUE(display);
    auto globals = std::make_unique<RoleGlobals>();
    static const wl_registry_listener listener = {RoleGlobals::global, [](void*, wl_registry*, uint32_t) {}};
    wl_registry* registry = wl_display_get_registry(display);
    wl_registry_add_listener(registry, &listener, globals.get());
    ASSERT_GE(wl_display_roundtrip(display), 0);
    ASSERT_TRUE(globals->core.complete());

    wl_surface* surface = wl_compositor_create_surface(globals->core.compositor);
    xdg_surface* xdg = xdg_wm_base_get_xdg_surface(globals->core.wm_base, surface);
    xdg_toplevel* toplevel = xdg_surface_get_toplevel(xdg);
    wl_surface_commit(surface);
    ASSERT_TRUE(globals->presentation);
    auto* feedback = wp_presentation_feedback(globals->presentation, surface);
    wl_surface_destroy(surface);
    xdg_toplevel_set_maximized(toplevel);
    xdg_toplevel_set_fullscreen(toplevel, nullptr);
    xdg_toplevel_set_title(toplevel, "inert");
    xdg_toplevel_set_min_size(toplevel, 10, 10);
    xdg_surface_set_window_geometry(xdg, 0, 0, 10, 10);
    xdg_toplevel_destroy(toplevel);
    xdg_surface_destroy(xdg);
    wl_display_roundtrip(display);
    wp_presentation_feedback_destroy(feedback);
    wp_presentation_destroy(globals->presentation);  // answered, or an error: either way no crash
    EXPECT_TRUE(compositor.process().running()) << compositor.process().output();
    globals.reset();
    wl_registry_destroy(registry);
    wl_display_disconnect(display);

    RunResult info = run({"wayland-info"}, compositor.client_env());
    EXPECT_EQ(info.exit_code, 0) << info.output;
    EXPECT_TRUE(compositor.process().running()) << compositor.process().output();
}
