// Real Debian clients (weston 10 demos, wayland-info, grim) against a headless syncway.
#include "compositor_fixture.hpp"

#include <gtest/gtest.h>

#include <regex>

using namespace syncway::test;

namespace {

// weston-simple-shm draws a 250x250 window of concentric, animated colour rings; we place
// windows at the output's top-left corner. This is well inside it, away from the cursor at 0,0.
constexpr Rect simple_shm_area{40, 40, 170, 170};
// Far from any 250x250 window: only the background shows there.
constexpr Rect empty_area{1000, 600, 300, 200};

bool is_background(Rgb c) { return c == background; }

} // namespace

TEST(Clients, WaylandInfoSeesTheGlobals)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    RunResult info = run({"wayland-info"}, compositor.client_env());
    ASSERT_TRUE(info.exited);
    ASSERT_EQ(info.exit_code, 0) << info.output;
    for (const char* global : {"wl_compositor", "wl_subcompositor", "wl_shm", "xdg_wm_base", "wl_seat",
                               "wl_data_device_manager", "zxdg_output_manager_v1", "zwlr_screencopy_manager_v1",
                               "wp_presentation", "wp_viewporter", "zwlr_virtual_pointer_manager_v1",
                               "zwp_virtual_keyboard_manager_v1", "zwlr_output_manager_v1", "wl_output"})
        EXPECT_NE(info.output.find(std::string("'") + global + "'"), std::string::npos) << "missing " << global;
    // Pointer and keyboard although the headless backend has no input devices.
    EXPECT_NE(info.output.find("capabilities: pointer keyboard"), std::string::npos) << info.output;
    // The default output size, as xdg-output reports it.
    EXPECT_TRUE(std::regex_search(info.output, std::regex("logical_width: 1920, logical_height: 1080")))
        << info.output;
}

TEST(Clients, OutputSizeFromCommandLine)
{
    Compositor compositor({"--output", "800x600@30", "--output", "640x480"});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    RunResult info = run({"wayland-info"}, compositor.client_env());
    ASSERT_EQ(info.exit_code, 0) << info.output;
    EXPECT_NE(info.output.find("width: 800 px, height: 600 px, refresh: 30.000 Hz"), std::string::npos) << info.output;
    EXPECT_NE(info.output.find("width: 640 px, height: 480 px, refresh: 60.000 Hz"), std::string::npos) << info.output;
}

TEST(Clients, SimpleShmFramesReachTheScreen)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    Process client({"weston-simple-shm"}, compositor.client_env());

    auto drawn = [](const Image& image) {
        // The rings: many colours, (almost) none of them our black background.
        return image.distinct_colors(simple_shm_area) > 50 &&
               image.count(simple_shm_area, is_background) < size_t(simple_shm_area.width * simple_shm_area.height / 50);
    };
    auto first = compositor.wait_for_screenshot(drawn);
    ASSERT_TRUE(first && drawn(*first)) << "weston-simple-shm never appeared\n"
                                        << client.output() << compositor.process().output();
    EXPECT_EQ(first->count(empty_area, is_background), size_t(empty_area.width * empty_area.height));
    // It animates: a later screenshot shows a newer frame.
    auto later = compositor.wait_for_screenshot(
        [&](const Image& image) { return drawn(image) && !image.same_pixels(*first, simple_shm_area); });
    ASSERT_TRUE(later && !later->same_pixels(*first, simple_shm_area)) << "no new frame was presented";
    EXPECT_TRUE(client.running()) << client.output();
}

TEST(Clients, SimpleEglFramesReachTheScreen)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    // Mesa llvmpipe through wl_shm: there is no GPU here.
    Process client({"weston-simple-egl"}, compositor.client_env());

    // The rotating triangle's corners are pure red, green and blue (however it is rotated);
    // the window fills the 1920x1080 output.
    constexpr Rect all{0, 0, 1920, 1080};
    auto triangle = [&](const Image& image) {
        return image.count(all, [](Rgb c) { return c.r > 200 && c.g < 60 && c.b < 60; }) > 20 &&
               image.count(all, [](Rgb c) { return c.g > 200 && c.r < 60 && c.b < 60; }) > 20 &&
               image.count(all, [](Rgb c) { return c.b > 200 && c.r < 60 && c.g < 60; }) > 20;
    };
    auto first = compositor.wait_for_screenshot(triangle);
    ASSERT_TRUE(first && triangle(*first)) << "weston-simple-egl's triangle never appeared\n"
                                           << client.output() << compositor.process().output();
    auto later = compositor.wait_for_screenshot(
        [&](const Image& image) { return triangle(image) && !image.same_pixels(*first, all); });
    ASSERT_TRUE(later && !later->same_pixels(*first, all)) << "the triangle did not rotate";
}

TEST(Clients, PresentationShmReceivesFeedback)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    // The protocol log of libwayland in the client shows what it received.
    auto env = compositor.client_env();
    env["WAYLAND_DEBUG"] = "1";
    Process client({"weston-presentation-shm", "-f"}, env);
    static const std::regex presented(R"(wp_presentation_feedback@\d+\.presented\()");
    auto count = [&] {
        std::string out = client.output();
        return std::distance(std::sregex_iterator(out.begin(), out.end(), presented), std::sregex_iterator());
    };
    EXPECT_TRUE(wait_until([&] { return count() >= 10; }, client_timeout))
        << "presented events: " << count() << "\n"
        << client.output().substr(0, 4000);
}

TEST(Clients, ToplevelsFillTheOutputWithinTheirMaxSize)
{
    Compositor compositor({"--output", "800x600"});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    auto env = compositor.client_env();
    env["WAYLAND_DEBUG"] = "1";
    // weston-simple-egl resizes freely: it is configured to the whole output.
    Process egl({"weston-simple-egl"}, env);
    EXPECT_TRUE(wait_until([&] { return egl.output().find("xdg_toplevel@") != std::string::npos &&
                                        egl.output().find(".configure(800, 600, ") != std::string::npos; },
                           client_timeout))
        << egl.output().substr(0, 3000);
    // weston-presentation-shm sets max_size 250x250: it gets that, not a size it cannot draw.
    Process fixed({"weston-presentation-shm"}, env);
    EXPECT_TRUE(wait_until([&] { return fixed.output().find(".configure(250, 250, ") != std::string::npos; },
                           client_timeout))
        << fixed.output().substr(0, 3000);
}
