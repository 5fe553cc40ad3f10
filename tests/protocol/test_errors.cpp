// Every linux-drm-syncobj-v1 protocol error, posted at the right moment on the right object;
// the offending client is disconnected and the compositor serves others on.
#include "sync_session.hpp"

#include <fcntl.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
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

TEST_F(Errors, EveryAttachableBufferKindIsSupported)
{
    // unsupported_buffer is for buffer kinds whose reads syncway cannot order against the
    // points. The kinds a client can attach are those of the buffer factories advertised; headless
    // (pixman) they are wl_shm and syncway's linux-dmabuf, and each must synchronize: no error,
    // and the replaced buffer's release point signaled. A new factory (wl_drm comes with a GPU
    // renderer) must get its own case here.
    auto client = session.connect();
    const std::vector<std::string> factories = {"wl_shm", "zwp_linux_dmabuf_v1", "wl_drm",
                                                "wp_single_pixel_buffer_manager_v1"};
    std::vector<std::string> advertised;
    for (const std::string& global : client->globals())
        if (std::find(factories.begin(), factories.end(), global) != factories.end())
            advertised.push_back(global);
    std::sort(advertised.begin(), advertised.end());
    std::vector<std::string> expected = {"wl_shm"};
    if (client->dmabuf())
        expected.push_back("zwp_linux_dmabuf_v1");
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(advertised, expected) << "a buffer factory without a case in this test";

    SyncTimeline acquire(session, *client), release(session, *client);
    session.dev().signal(acquire.fd.get(), 1);
    std::vector<std::unique_ptr<Buffer>> buffers;
    buffers.push_back(std::make_unique<Buffer>(client->shm(), 32, 32, red));
    if (client->dmabuf())
        buffers.push_back(std::make_unique<Buffer>(client->dmabuf(), 32, 32, blue));
    buffers.push_back(std::make_unique<Buffer>(client->shm(), 32, 32, green));  // replaces the last
    Surface surface(*client);
    for (size_t i = 0; i < buffers.size(); ++i) {
        surface.attach(*buffers[i]);
        surface.set_points(acquire.object, 1, release.object, i + 1);
        surface.commit();
        ASSERT_TRUE(client->roundtrip()) << "buffer kind #" << i << " was refused: "
                                         << (client->error() ? client->error()->interface : "") << " error "
                                         << (client->error() ? client->error()->code : 0);
    }
    // Each replaced buffer was released (point N-1 signaled implies the ones below it).
    EXPECT_TRUE(session.dev().wait_signaled(release.fd.get(), buffers.size() - 1, client_timeout));
    EXPECT_NE(session.dev().state(release.fd.get(), buffers.size()), SYNCOBJ_POINT_SIGNALED);
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
    // This machine (and CI) has no DRM render node: the kernel-only modes cannot work.
    if (access("/dev/dri/renderD128", F_OK) == 0)
        GTEST_SKIP() << "a DRM render node exists here; the kernel mode may work";
    if (access("/dev/syncobj", F_OK) == 0)
        GTEST_SKIP() << "/dev/syncobj exists here; the kernel mode may work";
    for (const char* mode : {"kernel", "drm"}) {
        SyncSession session({"--syncobj", mode});
        ASSERT_TRUE(session.compositor().wait_ready());
        auto client = session.connect();
        EXPECT_EQ(client->syncobj(), nullptr) << mode;
    }
}

TEST(Modes, ServiceAcceptsServiceTimelines)
{
    SyncSession session({"--syncobj", "service"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    ASSERT_NE(client->syncobj(), nullptr);
    SyncTimeline timeline(session, *client);
    EXPECT_TRUE(client->roundtrip()) << "a service timeline was refused in --syncobj service";
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
    // Said in the log, naming the variable.
    EXPECT_NE(session.log().find("SYNCWAY_SYNCOBJ=off"), std::string::npos) << session.log();
}

TEST(Modes, EnvironmentGivesTheDefault)
{
    // kernel from the environment: nothing to import kernel timelines through here, so the
    // global is not advertised, which auto (the default without the variable) would do.
    if (access("/dev/dri/renderD128", F_OK) == 0 || access("/dev/syncobj", F_OK) == 0)
        GTEST_SKIP() << "a kernel syncobj device exists here; kernel mode would advertise too";
    ScopedModeEnv kernel("kernel");
    {
        SyncSession session;
        ASSERT_TRUE(session.compositor().wait_ready());
        EXPECT_EQ(session.connect()->syncobj(), nullptr) << "SYNCWAY_SYNCOBJ=kernel was not the default";
    }
    // The option wins over the variable (except for off).
    SyncSession session({"--syncobj", "auto"});
    ASSERT_TRUE(session.ready()) << session.log();
    EXPECT_NE(session.connect()->syncobj(), nullptr) << "--syncobj auto lost to SYNCWAY_SYNCOBJ=kernel";
}

TEST(Modes, BadEnvironmentValueIsIgnoredLoudly)
{
    ScopedModeEnv bogus("sometimes");
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    EXPECT_NE(session.connect()->syncobj(), nullptr) << "an invalid SYNCWAY_SYNCOBJ was not ignored (auto)";
    // Loudly: the log names the variable and the value it ignored.
    std::string log = session.log();
    EXPECT_TRUE(log.find("SYNCWAY_SYNCOBJ") != std::string::npos && log.find("'sometimes'") != std::string::npos) << log;
}

// A commit that gets a protocol error is never applied: no commit listener (here the recorder's,
// which notes when a state became current) sees the invalid state before the client goes.
TEST(RejectedCommit, IsNeverApplied)
{
    char dir_template[] = "/tmp/syncway-rejected-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    std::string dir = dir_template;
    {
        SyncSession session({"--record", dir, "--record-trace-only"});
        ASSERT_TRUE(session.ready()) << session.log();
        Offender o(session);
        ASSERT_TRUE(o.client->roundtrip());
        o.commit(true, 0, 1);  // a buffer without an acquire point
        EXPECT_TRUE(died_with(*o.client, surface_iface, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_ACQUIRE_POINT));
        ASSERT_TRUE(session.shuts_down_cleanly());
    }
    std::ifstream trace(dir + "/trace.jsonl");
    std::string line, all;
    int with_buffer = 0;
    while (std::getline(trace, line)) {
        all += line + "\n";
        if (line.find("\"type\":\"commit\"") == std::string::npos || line.find("\"buffer\":{") == std::string::npos)
            continue;
        ++with_buffer;
        EXPECT_NE(line.find("\"t_applied\":null"), std::string::npos) << "the rejected commit was applied: " << line;
    }
    EXPECT_EQ(with_buffer, 1) << "expected the one commit with a buffer in the trace:\n" << all;
    std::filesystem::remove_all(dir);
}
