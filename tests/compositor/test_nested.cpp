// syncway inside syncway: the nested one (wayland backend) shows a client in its window, and
// the parent's screenshot shows that client's pixels.
#include "compositor_fixture.hpp"

#include <signal.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

using namespace syncway::test;

TEST(Nested, ClientPixelsReachTheParent)
{
    Compositor parent;
    ASSERT_TRUE(parent.wait_ready()) << parent.process().output();

    // The nested compositor connects to the parent through WAYLAND_DISPLAY; its command
    // (weston-simple-shm) only knows the nested socket, so its pixels can only reach the
    // parent's screen through the nested compositor's output window.
    Process nested({syncway_bin(), "--backend", "wayland", "--socket", "nested", "--", "weston-simple-shm"},
                   parent.client_env());

    constexpr Rect area{40, 40, 170, 170};
    auto drawn = [&](const Image& image) {
        return image.distinct_colors(area) > 50 &&
               image.count(area, [](Rgb c) { return c == background; }) < size_t(area.width * area.height / 50);
    };
    auto shot = parent.wait_for_screenshot(drawn);
    ASSERT_TRUE(shot && drawn(*shot)) << "nested client never appeared in the parent\n"
                                      << nested.output() << parent.process().output();
    EXPECT_NE(nested.output().find("wayland backend"), std::string::npos) << nested.output();

    // SIGTERM ends the nested compositor, which ends its command: 143 comes back.
    nested.signal(SIGTERM);
    ASSERT_TRUE(nested.wait(startup_timeout)) << nested.output();
    EXPECT_EQ(nested.exit_code(), 128 + SIGTERM) << nested.output();
}

TEST(Nested, X11BackendUnderXvfb)
{
    if (std::system("command -v Xvfb >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "Xvfb is not installed (scripts/setup.sh installs it)";
    // -displayfd: Xvfb picks a free display and prints its number (on a line of its own,
    // among its warnings on the same log) once it accepts clients.
    Process xvfb({"Xvfb", "-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"}, {});
    std::smatch m;
    std::string out;
    ASSERT_TRUE(wait_until(
        [&] {
            out = xvfb.output();
            return std::regex_search(out, m, std::regex("(?:^|\\n)(\\d+)\\n"));
        },
        startup_timeout))
        << out;
    std::string display = ":" + m[1].str();

    TempDir dir;
    RunResult r = run({syncway_bin(), "--backend", "x11", "--output", "640x480", "--socket", "x11-nested", "--",
                       "wayland-info"},
                      {{"DISPLAY", display}, {"WAYLAND_DISPLAY", std::nullopt}, {"XDG_RUNTIME_DIR", dir.path()}},
                      startup_timeout);
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("x11 backend"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("width: 640 px, height: 480 px"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("'xdg_wm_base'"), std::string::npos) << r.output;
}
