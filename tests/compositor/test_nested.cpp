// syncway inside syncway: the nested one (wayland backend) shows a client in its window, and
// the parent's screenshot shows that client's pixels.
#include "compositor_fixture.hpp"

#include <signal.h>

#include <gtest/gtest.h>

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
