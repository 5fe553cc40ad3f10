// Churn soak: clients that take a bit of everything (a toplevel, an imported timeline, a held
// commit with its wait, a shown wl_shm buffer, an fd parked in linux-dmabuf params) and are
// SIGKILLed, over and over. The compositor's fds come back to where they were and its memory
// stays flat. Bounded: kSoakCycles cycles or kSoakTime, whichever ends first.
#include "sync_session.hpp"

#include <syncway/testing/churn_client.hpp>

#include <fstream>

using namespace syncway;
using namespace syncway::test;

namespace {

constexpr int kWarmUp = 20;
constexpr int kSoakCycles = 300;
constexpr auto kSoakTime = 25s;

long rss_kb(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    long value = -1;
    while (status >> key)
        if (key == "VmRSS:" && status >> value)
            return value;
    return -1;
}

} // namespace

TEST(Soak, ChurnLeavesNoFdsAndFlatMemory)
{
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    syncway::testing::ChurnTarget target{session.compositor().runtime_dir(), session.compositor().socket(),
                                session.service_socket()};
    for (int i = 0; i < kWarmUp; ++i)
        ASSERT_TRUE(syncway::testing::churn_cycle(target, 10000)) << "churn client " << i << " failed\n" << session.log();
    UniqueFd warm_up = session.dev().create_timeline();  // the test's own service connection is in
    auto settled = [&](int at_most) { return wait_until([&] { return session.fd_count() <= at_most; }, 10s); };
    int fds_before = session.fd_count();
    long rss_before = rss_kb(session.pid());

    const auto deadline = std::chrono::steady_clock::now() + kSoakTime;
    int cycles = 0;
    for (; cycles < kSoakCycles && std::chrono::steady_clock::now() < deadline; ++cycles)
        ASSERT_TRUE(syncway::testing::churn_cycle(target, 10000)) << "churn client " << cycles << " failed\n" << session.log();
    EXPECT_TRUE(settled(fds_before)) << cycles << " cycles: " << session.fd_count() << " fds, " << fds_before
                                     << " before\n" << session.fd_list();
    long rss_after = rss_kb(session.pid());
    std::fprintf(stderr, "soak: %d cycles; compositor fds %d -> %d, RSS %ld -> %ld kB\n", cycles, fds_before,
                 session.fd_count(), rss_before, rss_after);
    EXPECT_GE(cycles, 50) << "too few cycles to judge";
#ifndef SYNCWAY_SANITIZED
    // Allocator noise stays far below this; a leak of a client's objects (a few kB per cycle)
    // does not.
    EXPECT_LT(rss_after - rss_before, 1024 + cycles * 1) << "RSS grew by " << rss_after - rss_before << " kB in "
                                                           << cycles << " cycles";
#endif
    // The compositor still serves a client with explicit sync.
    auto client = session.connect();
    SyncTimeline timeline(session, *client);
    session.dev().signal(timeline.fd.get(), 1);
    Surface surface(*client);
    Buffer buffer(client->shm(), 32, 32, green);
    surface.attach(buffer);
    surface.set_points(timeline.object, 1, timeline.object, 2);
    surface.commit();
    EXPECT_TRUE(client->roundtrip());
    EXPECT_TRUE(session.shuts_down_cleanly());
}
