// The compositor's Wayland side under generated traffic (wayland_fuzzer.hpp) for kFuzzTime,
// while a well-behaved client animates: syncway survives (and, in the sanitizer build, shows
// no memory error or leak at exit), never stops answering, and the other clients keep working.
// The seed is printed; SYNCWAY_FUZZ_SEED=N replays a run.
#include "sync_session.hpp"
#include "wayland_fuzzer.hpp"

#include <cinttypes>

using namespace syncway;
using namespace syncway::test;

namespace {

constexpr auto kFuzzTime = 20s;

std::string tail(const std::string& log) { return log.size() > 8000 ? log.substr(log.size() - 8000) : log; }

} // namespace

TEST(Fuzz, GeneratedRequestsNeitherCrashNorStallTheCompositor)
{
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    Process good({"weston-simple-shm"}, session.compositor().client_env());
    constexpr Rect area{40, 40, 170, 170};
    auto drawn = [&](const Image& image) { return image.distinct_colors(area) > 50; };
    ASSERT_TRUE(session.compositor().wait_for_screenshot(drawn)) << good.output();

    uint64_t seed = std::chrono::steady_clock::now().time_since_epoch().count();
    if (const char* replay = std::getenv("SYNCWAY_FUZZ_SEED"))
        seed = std::strtoull(replay, nullptr, 10);
    std::fprintf(stderr, "fuzz seed: %" PRIu64 " (SYNCWAY_FUZZ_SEED=%" PRIu64 " replays it)\n", seed, seed);
    FuzzTarget target{session.compositor().runtime_dir() + "/" + session.compositor().socket(),
                      session.service_socket()};
    auto start = std::chrono::steady_clock::now();
    FuzzStats stats = fuzz_compositor(target, seed, start + kFuzzTime);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr,
                 "fuzz: %" PRIu64 " requests in %" PRIu64 " sessions, %.1f s: %.0f requests/s; %" PRIu64
                 " sessions ended by a protocol error, %" PRIu64 " unanswered, %" PRIu64 " failed\n",
                 stats.requests, stats.sessions, seconds, stats.requests / seconds, stats.disconnected,
                 stats.unanswered, stats.failed);

    Process& syncway = session.compositor().process();
    if (!syncway.running()) {
        syncway.wait(5s);
        FAIL() << "syncway died under fuzzing (exit status " << syncway.exit_code() << ", seed " << seed << ")\n"
               << tail(session.log());
    }
    EXPECT_EQ(stats.unanswered, 0u) << "the compositor stopped answering a client (seed " << seed << ")";
    EXPECT_GT(stats.requests, 1000u) << "the fuzzer hardly ran";
    EXPECT_LT(stats.failed, stats.sessions / 10 + 1) << "fuzz clients could not connect or died";
    // Other clients keep working: the animation goes on, a new client is served.
    auto before = session.compositor().screenshot();
    ASSERT_TRUE(before);
    EXPECT_TRUE(session.compositor().wait_for_screenshot(
        [&](const Image& image) { return drawn(image) && !image.same_pixels(*before, area); }))
        << "weston-simple-shm's frames stopped\n" << good.output();
    EXPECT_TRUE(good.running()) << good.output();
    RunResult info = run({"wayland-info"}, session.compositor().client_env());
    EXPECT_EQ(info.exit_code, 0) << info.output;
    good.signal(SIGTERM);
    good.wait(5s);
    EXPECT_TRUE(session.shuts_down_cleanly());
}
