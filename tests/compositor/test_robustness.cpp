// A client that sends garbage is disconnected; the others keep being served.
#include "compositor_fixture.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

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
