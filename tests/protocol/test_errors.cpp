// Every linux-drm-syncobj-v1 protocol error, posted at the right moment on the right object;
// the offending client is disconnected and the compositor serves others on.
#include "sync_session.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

using namespace syncway;
using namespace syncway::test;

namespace {

constexpr const char* manager_iface = "wp_linux_drm_syncobj_manager_v1";
constexpr const char* surface_iface = "wp_linux_drm_syncobj_surface_v1";

::testing::AssertionResult died_with(Client& client, const char* interface, uint32_t code)
{
    if (client.roundtrip())
        return ::testing::AssertionFailure() << "the client was not disconnected";
    auto error = client.error();
    if (!error)
        return ::testing::AssertionFailure() << "disconnected without a protocol error";
    if (error->interface != interface || error->code != code)
        return ::testing::AssertionFailure()
               << "error " << error->code << " on " << error->interface << ", expected " << code << " on " << interface;
    return ::testing::AssertionSuccess();
}

// The compositor still serves explicit-sync clients after another one was disconnected.
::testing::AssertionResult still_serving(SyncSession& session)
{
    auto other = session.connect();
    Surface surface(*other);
    auto timeline = session.dev().create_timeline();
    session.dev().signal(timeline.get(), 1);
    auto* tl = other->import(timeline.get());
    Buffer buffer(other->shm(), 32, 32, green);
    surface.attach(buffer);
    surface.set_points(tl, 1, tl, 2);
    surface.commit();
    if (!other->roundtrip())
        return ::testing::AssertionFailure() << "a well-behaved client failed after another's error";
    return ::testing::AssertionSuccess();
}

// A fresh client about to break a rule: a toplevel, one imported timeline, a buffer.
struct Offender {
    explicit Offender(SyncSession& session)
        : client(session.connect()), surface(*client), timeline(session, *client), buffer(client->shm(), 32, 32, red)
    {
    }
    // Commits the buffer (or none) with the given points (0: not set).
    void commit(bool attach, uint64_t acquire, uint64_t release)
    {
        if (attach)
            surface.attach(buffer);
        surface.set_points(acquire ? timeline.object : nullptr, acquire, release ? timeline.object : nullptr, release);
        surface.commit();
    }
    std::unique_ptr<Client> client;
    Surface surface;
    SyncTimeline timeline;
    Buffer buffer;
};

class Errors : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(session.ready()) << session.log(); }
    void TearDown() override { EXPECT_TRUE(session.shuts_down_cleanly()); }
    SyncSession session;
};

} // namespace

TEST_F(Errors, GlobalAdvertised)
{
    auto client = session.connect();
    EXPECT_NE(client->syncobj(), nullptr);
}

TEST_F(Errors, SurfaceExists)
{
    auto client = session.connect();
    Surface surface(*client);
    surface.sync();
    ASSERT_TRUE(client->roundtrip());
    client->own(wp_linux_drm_syncobj_manager_v1_get_surface(client->syncobj(), surface.get()));
    EXPECT_TRUE(died_with(*client, manager_iface, WP_LINUX_DRM_SYNCOBJ_MANAGER_V1_ERROR_SURFACE_EXISTS));
    EXPECT_TRUE(still_serving(session));
}

TEST_F(Errors, SurfaceObjectCanBeRecreatedAfterDestroy)
{
    auto client = session.connect();
    Surface surface(*client);
    surface.sync();
    surface.destroy_sync();
    surface.sync();
    EXPECT_TRUE(client->roundtrip());
}

TEST_F(Errors, InvalidTimeline)
{
    // Any fd that is not a timeline of this compositor's service (or a kernel syncobj).
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
    UniqueFd memfd(memfd_create("not-a-timeline", MFD_CLOEXEC));
    UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
    UniqueFd efd(eventfd(0, EFD_CLOEXEC));
    // A socket pair looks like a service timeline from afar (SOCK_SEQPACKET) but is none.
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd fake_a(pair[0]), fake_b(pair[1]);
    struct Case {
        const char* what;
        int fd;
    } cases[] = {{"pipe", pipe_read.get()},
                 {"memfd", memfd.get()},
                 {"/dev/null", devnull.get()},
                 {"eventfd", efd.get()},
                 {"seqpacket socket", fake_a.get()}};
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        auto client = session.connect();
        ASSERT_NE(c.fd, -1);
        client->import(c.fd);
        EXPECT_TRUE(died_with(*client, manager_iface, WP_LINUX_DRM_SYNCOBJ_MANAGER_V1_ERROR_INVALID_TIMELINE));
    }
    EXPECT_NE(session.log().find("invalid timeline"), std::string::npos) << session.log();
    EXPECT_TRUE(still_serving(session));
}

TEST_F(Errors, InvalidTimelineOfAnotherCompositor)
{
    // A real timeline, but of a different syncway's service: this compositor cannot wait on it.
    SyncSession other;
    ASSERT_TRUE(other.ready()) << other.log();
    auto foreign = other.dev().create_timeline();
    auto client = session.connect();
    client->import(foreign.get());
    EXPECT_TRUE(died_with(*client, manager_iface, WP_LINUX_DRM_SYNCOBJ_MANAGER_V1_ERROR_INVALID_TIMELINE));
}

TEST_F(Errors, NoSurface)
{
    Offender o(session);
    o.surface.sync();
    o.surface.destroy_surface();
    ASSERT_TRUE(o.client->roundtrip());
    o.surface.set_points(o.timeline.object, 1, nullptr, 0);
    EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_SURFACE));
    EXPECT_TRUE(still_serving(session));
}

TEST_F(Errors, NoBuffer)
{
    for (bool acquire : {true, false}) {
        SCOPED_TRACE(acquire ? "acquire point only" : "release point only");
        Offender o(session);
        o.commit(false, acquire ? 1 : 0, acquire ? 0 : 1);
        EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_BUFFER));
    }
    EXPECT_TRUE(still_serving(session));
}

TEST_F(Errors, NoBufferWhenDetaching)
{
    Offender o(session);
    wl_surface_attach(o.surface.get(), nullptr, 0, 0);
    o.commit(false, 1, 2);
    EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_BUFFER));
}

TEST_F(Errors, NoAcquirePoint)
{
    Offender o(session);
    o.commit(true, 0, 1);
    EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_ACQUIRE_POINT));
    EXPECT_TRUE(still_serving(session));
}

TEST_F(Errors, NoReleasePoint)
{
    Offender o(session);
    o.commit(true, 1, 0);
    EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_RELEASE_POINT));
}

TEST_F(Errors, PointsAreDoubleBuffered)
{
    // Points set for one commit are not carried over to the next: a buffer in the next commit
    // without new points lacks an acquire point.
    Offender o(session);
    session.dev().signal(o.timeline.fd.get(), 1);
    o.commit(true, 1, 2);
    ASSERT_TRUE(o.client->roundtrip());
    o.commit(true, 0, 0);
    EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_ACQUIRE_POINT));
}

TEST_F(Errors, ConflictingPoints)
{
    for (uint64_t acquire : {5, 6}) {
        SCOPED_TRACE("acquire " + std::to_string(acquire) + ", release 5 on the same timeline");
        Offender o(session);
        o.commit(true, acquire, 5);
        EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_CONFLICTING_POINTS));
    }
    // Below the release point, or on different timelines, is fine.
    Offender o(session);
    SyncTimeline other(session, *o.client);
    session.dev().signal(o.timeline.fd.get(), 9);
    o.commit(true, 4, 5);
    ASSERT_TRUE(o.client->roundtrip());
    o.surface.attach(o.buffer);
    o.surface.set_points(o.timeline.object, 9, other.object, 1);
    o.surface.commit();
    EXPECT_TRUE(o.client->roundtrip());
}

TEST_F(Errors, CommitWithoutBufferOrPointsIsFine)
{
    auto client = session.connect();
    Surface surface(*client);
    surface.sync();
    surface.commit();
    EXPECT_TRUE(client->roundtrip());
}

TEST(Modes, OffAdvertisesNothing)
{
    SyncSession session({"--syncobj", "off"});
    ASSERT_TRUE(session.compositor().wait_ready());
    auto client = session.connect();
    EXPECT_EQ(client->syncobj(), nullptr);
}

TEST(Modes, KernelWithoutDrmDeviceAdvertisesNothing)
{
    // This machine (and CI) has no DRM render node: the kernel-only mode cannot work.
    if (access("/dev/dri/renderD128", F_OK) == 0)
        GTEST_SKIP() << "a DRM render node exists here; the kernel mode may work";
    if (access("/dev/syncobj", F_OK) == 0)
        GTEST_SKIP() << "/dev/syncobj exists here; the kernel mode may work";
    for (const char* mode : {"kernel", "drm"}) {
        SyncSession session({"--syncobj", mode});
        ASSERT_TRUE(session.compositor().wait_ready());
        auto client = session.connect();
        EXPECT_EQ(client->syncobj(), nullptr) << mode;
        // kernel would take /dev/syncobj too; drm only a render node.
        const char* needs = std::string(mode) == "kernel" ? "needs /dev/syncobj or a DRM render node"
                                                          : "needs a DRM render node";
        EXPECT_NE(session.log().find(needs), std::string::npos) << session.log();
    }
}

namespace {

// SYNCWAY_SYNCOBJ for the compositors started in one test (they inherit our environment).
class ScopedModeEnv {
public:
    explicit ScopedModeEnv(const char* value) { setenv("SYNCWAY_SYNCOBJ", value, 1); }
    ~ScopedModeEnv() { unsetenv("SYNCWAY_SYNCOBJ"); }
};

} // namespace

TEST(Modes, EnvironmentKillSwitchWinsOverTheOption)
{
    ScopedModeEnv off("off");
    SyncSession session({"--syncobj", "auto"});
    ASSERT_TRUE(session.compositor().wait_ready());
    EXPECT_EQ(session.connect()->syncobj(), nullptr);
    EXPECT_NE(session.log().find("SYNCWAY_SYNCOBJ=off overrides --syncobj auto"), std::string::npos) << session.log();
}

TEST(Modes, EnvironmentGivesTheDefault)
{
    ScopedModeEnv service("service");
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    EXPECT_NE(session.connect()->syncobj(), nullptr);
    EXPECT_NE(session.log().find("(--syncobj service)"), std::string::npos) << session.log();
}

TEST(Modes, BadEnvironmentValueIsIgnoredLoudly)
{
    ScopedModeEnv bogus("sometimes");
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    EXPECT_NE(session.connect()->syncobj(), nullptr);
    EXPECT_NE(session.log().find("ignoring SYNCWAY_SYNCOBJ='sometimes'"), std::string::npos) << session.log();
}
