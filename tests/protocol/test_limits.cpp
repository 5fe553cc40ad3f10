// Per-client limits and the fd limit: a client over a limit gets a protocol error naming it
// and is disconnected, nothing it held stays behind, and the other clients are still served
// (the next client's wl_shm pool included).
#include "sync_session.hpp"

#include <drm_fourcc.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/resource.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace syncway;
using namespace syncway::test;

namespace {

// Refused with a protocol error on wl_display (implementation) that the log explains, naming
// `limit` (the option that sets it).
::testing::AssertionResult refused_naming(Client& client, SyncSession& session, const std::string& limit)
{
    if (client.roundtrip())
        return ::testing::AssertionFailure() << "the client was not disconnected";
    auto error = client.error();
    if (!error)
        return ::testing::AssertionFailure() << "disconnected without a protocol error";
    if (error->interface != "wl_display" || error->code != WL_DISPLAY_ERROR_IMPLEMENTATION)
        return ::testing::AssertionFailure() << "error " << error->code << " on " << error->interface;
    if (!wait_until([&] { return session.log().find(limit) != std::string::npos; }, 5s))
        return ::testing::AssertionFailure() << "the log does not name " << limit << "\n" << session.log();
    return ::testing::AssertionSuccess();
}

// A client that can put a buffer on screen: a wl_shm pool (an fd received), a toplevel, a
// commit answered by a roundtrip.
::testing::AssertionResult shm_client_served(SyncSession& session)
{
    try {
        auto client = session.connect();
        Surface surface(*client);
        Buffer buffer(client->shm(), 32, 32, green);
        surface.attach(buffer);
        surface.commit();
        if (!client->roundtrip())
            return ::testing::AssertionFailure() << "a new wl_shm client was disconnected: "
                                                 << (client->error() ? client->error()->interface : "no error");
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << e.what();
    }
    return ::testing::AssertionSuccess();
}

uint64_t soft_fd_limit(pid_t pid)
{
    std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
    std::string line;
    while (std::getline(limits, line))
        if (line.starts_with("Max open files")) {
            std::istringstream fields(line.substr(14));
            uint64_t soft = 0;
            fields >> soft;
            return soft;
        }
    return 0;
}

// The compositor's fd count once the test's own connection to its syncobj service is accepted
// (the service accepts it at its first request).
int settled_fd_count(SyncSession& session, UniqueFd& warm_up)
{
    warm_up = session.dev().create_timeline();
    return session.fd_count();
}

// The test's memfds the compositor holds open.
int held_memfds(SyncSession& session)
{
    std::string list = session.fd_list();
    int n = 0;
    for (size_t at = list.find("/memfd:limits-test"); at != std::string::npos; at = list.find("/memfd:limits-test", at + 1))
        ++n;
    return n;
}

// The compositor's soft fd limit lowered to its lowest free fd number, so that it can make no
// new fd (those open above that number stay usable); restored when this goes.
class NoNewFds {
public:
    explicit NoNewFds(pid_t pid) : pid_(pid)
    {
        ok_ = prlimit(pid_, RLIMIT_NOFILE, nullptr, &before_) == 0;
        // A new fd takes the lowest free number, which must be below the soft limit.
        std::set<int> open;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/fd"))
            open.insert(std::stoi(entry.path().filename().string()));
        int lowest_free = 0;
        while (open.contains(lowest_free))
            ++lowest_free;
        rlimit lowered{rlim_t(lowest_free), before_.rlim_max};
        ok_ = ok_ && prlimit(pid_, RLIMIT_NOFILE, &lowered, nullptr) == 0;
    }
    ~NoNewFds() { restore(); }
    NoNewFds(const NoNewFds&) = delete;
    NoNewFds& operator=(const NoNewFds&) = delete;
    bool ok() const { return ok_; }
    void restore()
    {
        if (std::exchange(ok_, false))
            prlimit(pid_, RLIMIT_NOFILE, &before_, nullptr);
    }

private:
    pid_t pid_;
    rlimit before_{};
    bool ok_ = false;
};

// Reads the client's socket (bypassing libwayland, whose events no longer matter) until the
// compositor closes it.
bool closed_by_compositor(Client& client, std::chrono::milliseconds timeout)
{
    int fd = wl_display_get_fd(client.display());
    return wait_until(
        [&] {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0)
                return false;
            char bytes[4096];
            return recv(fd, bytes, sizeof bytes, MSG_DONTWAIT) == 0;
        },
        timeout);
}

UniqueFd memfd(size_t size)
{
    UniqueFd fd(memfd_create("limits-test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    EXPECT_EQ(ftruncate(fd.get(), off_t(size)), 0);
    return fd;
}

} // namespace

TEST(Limits, SoftFdLimitRaisedToTheHardLimit)
{
    SyncSession session({}, {"prlimit", "--nofile=1024:4096", "--"});
    ASSERT_TRUE(session.ready()) << session.log();
    EXPECT_EQ(soft_fd_limit(session.pid()), 4096u);
    EXPECT_NE(session.log().find("soft limit raised from 1024 to the hard limit 4096"), std::string::npos)
        << session.log();
    EXPECT_TRUE(session.shuts_down_cleanly());
}

TEST(Limits, ImportedTimelinesPerClient)
{
    SyncSession session({"--limit-timelines", "8"});
    ASSERT_TRUE(session.ready()) << session.log();
    UniqueFd timeline;
    int baseline = settled_fd_count(session, timeline);
    {
        auto client = session.connect();
        for (int i = 0; i < 8; ++i)
            client->import(timeline.get());
        ASSERT_TRUE(client->roundtrip()) << "8 timelines are within the limit\n" << session.log();
        client->import(timeline.get());
        EXPECT_TRUE(refused_naming(*client, session, "--limit-timelines"));
    }
    // Its timelines went with it.
    EXPECT_TRUE(wait_until([&] { return session.fd_count() <= baseline; }, 10s))
        << session.fd_count() << " fds, " << baseline << " before\n" << session.fd_list();
    // Another client imports its own 8.
    auto other = session.connect();
    for (int i = 0; i < 8; ++i)
        other->import(timeline.get());
    EXPECT_TRUE(other->roundtrip());
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// The compositor's fd table cannot be filled by clients within their limits: clients that
// import timelines (2 fds each) until the compositor's table is all but full are refused once
// they hold its budget (soft limit less the headroom), naming it, and the next client still
// gets its wl_shm pool (whose fd it must receive).
TEST(Limits, ClientsCannotExhaustTheCompositorsFds)
{
    constexpr int table = 1024;
    SyncSession session({}, {"prlimit", "--nofile=1024:1024", "--"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto timeline = session.dev().create_timeline();
    std::vector<std::unique_ptr<Client>> hogs;
    // Up to one free fd left; each hog stays within the per-client limit (256).
    for (int c = 0; c < 6 && session.fd_count() < table - 6; ++c) {
        hogs.push_back(session.connect());
        Client& hog = *hogs.back();
        for (int held = 0; hog.alive() && held < 250;) {
            // An import costs the compositor a few fds: near the end, one at a time.
            int room = table - 2 - session.fd_count();
            if (room < 4)
                break;
            for (int i = 0; i < std::clamp(room / 8, 1, 25); ++i, ++held)
                hog.import(timeline.get());
            hog.roundtrip();
        }
    }
    EXPECT_NE(session.log().find("near its file descriptor limit"), std::string::npos)
        << "no client was refused for the fd budget\n" << session.log();
    EXPECT_NE(session.log().find("--fd-headroom"), std::string::npos);
    EXPECT_TRUE(shm_client_served(session)) << session.fd_count() << " fds in use\n" << session.log();
    EXPECT_TRUE(session.compositor().process().running());
    hogs.clear();
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

TEST(Limits, HeldCommitsPerClient)
{
    SyncSession session({"--limit-held-commits", "4"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    Surface surface(*client);
    SyncTimeline timeline(session, *client);
    Buffer buffer(client->shm(), 32, 32, red);
    for (uint64_t i = 1; i <= 4; ++i) {
        surface.attach(buffer);
        surface.set_points(timeline.object, 10 * i, timeline.object, 10 * i + 1);  // never signaled
        surface.commit();
    }
    ASSERT_TRUE(client->roundtrip()) << "4 held commits are within the limit\n" << session.log();
    surface.attach(buffer);
    surface.set_points(timeline.object, 50, timeline.object, 51);
    surface.commit();
    EXPECT_TRUE(refused_naming(*client, session, "--limit-held-commits"));
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// Commits queued behind a held one wait as long as it does (wlroots keeps a cached state for
// each): they count against the same limit, so a client cannot pile up states without bound.
TEST(Limits, CommitsQueuedBehindAHeldOneCount)
{
    SyncSession session({"--limit-held-commits", "4"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    Surface surface(*client);
    SyncTimeline timeline(session, *client);
    Buffer buffer(client->shm(), 32, 32, red);
    surface.attach(buffer);
    surface.set_points(timeline.object, 10, timeline.object, 11);  // never signaled
    surface.commit();
    for (int i = 0; i < 3; ++i)
        surface.commit();  // nothing attached: no points needed, queued behind the held one
    ASSERT_TRUE(client->roundtrip()) << "4 waiting commits are within the limit\n" << session.log();
    surface.commit();
    EXPECT_TRUE(refused_naming(*client, session, "--limit-held-commits"));
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// Whatever makes wlroots cache a commit counts, not only our explicit-sync holds: a synchronized
// subsurface's commits are cached by wlroots itself until its parent commits, so a client that
// never commits the parent would pile them up without bound.
TEST(Limits, SynchronizedSubsurfaceCommitsCount)
{
    SyncSession session({"--limit-held-commits", "4"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    Surface parent(*client);
    Buffer buffer(client->shm(), 32, 32, red);
    parent.attach(buffer);
    parent.commit();
    Surface child(*client, parent, 0, 0, /*desync=*/false);
    child.attach(buffer);
    child.commit();
    for (int i = 0; i < 3; ++i)
        child.commit();  // cached behind the first until the parent commits
    ASSERT_TRUE(client->roundtrip()) << "4 cached commits are within the limit\n" << session.log();
    child.commit();
    EXPECT_TRUE(refused_naming(*client, session, "--limit-held-commits"));
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// A cached commit's charge is given back when wlroots applies it: after the parent's commit
// applied the synchronized subsurface's 4 states, the client may cache 4 again, and no more.
TEST(Limits, AppliedSubsurfaceCommitsAreGivenBack)
{
    SyncSession session({"--limit-held-commits", "4"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    Surface parent(*client);
    Buffer buffer(client->shm(), 32, 32, red);
    parent.attach(buffer);
    parent.commit();
    Surface child(*client, parent, 0, 0, /*desync=*/false);
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 4; ++i)
            child.commit();
        parent.commit();  // applies them
        ASSERT_TRUE(client->roundtrip()) << "round " << round << ": the charges of applied commits stayed\n"
                                         << session.log();
    }
    for (int i = 0; i < 5; ++i)
        child.commit();
    EXPECT_TRUE(refused_naming(*client, session, "--limit-held-commits"));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// The same for commits held for their acquire point and those queued behind them: once the
// point is signaled and they apply, the client may hold 4 again, and no more.
TEST(Limits, AppliedHeldCommitsAreGivenBack)
{
    SyncSession session({"--limit-held-commits", "4"});
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer first(client->shm(), 640, 480, red), second(client->shm(), 640, 480, blue);
    const Buffer* buffers[] = {&first, &second};
    uint64_t point = 0;
    for (int round = 0; round < 2; ++round) {
        ++point;
        surface.attach(*buffers[round]);
        surface.set_points(acquire.object, point, release.object, point);
        surface.commit();
        for (int i = 0; i < 3; ++i)
            surface.commit();
        ASSERT_TRUE(client->roundtrip()) << "round " << round << ": 4 held commits are within the limit\n"
                                         << session.log();
        session.dev().signal(acquire.fd.get(), point);
        ASSERT_TRUE(session.shows(100, 100, round == 0 ? red : blue, 5s)) << "round " << round;
    }
    surface.attach(first);
    surface.set_points(acquire.object, point + 1, release.object, point + 1);
    surface.commit();
    for (int i = 0; i < 4; ++i)
        surface.commit();
    EXPECT_TRUE(refused_naming(*client, session, "--limit-held-commits"));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

TEST(Limits, PointWaitsPerClient)
{
    SyncSession session({"--limit-waits", "2"});
    ASSERT_TRUE(session.ready()) << session.log();
    UniqueFd warm_up;
    int baseline = settled_fd_count(session, warm_up);
    {
        auto client = session.connect();
        SyncTimeline timeline(session, *client);
        Buffer buffer(client->shm(), 32, 32, red);
        std::vector<std::unique_ptr<Surface>> surfaces;
        // One wait per surface with a held commit.
        for (uint64_t i = 1; i <= 3; ++i) {
            surfaces.push_back(std::make_unique<Surface>(*client));
            surfaces.back()->attach(buffer);
            surfaces.back()->set_points(timeline.object, 10 * i, timeline.object, 10 * i + 1);
            surfaces.back()->commit();
            if (i == 2) {
                ASSERT_TRUE(client->roundtrip()) << "2 waits are within the limit\n" << session.log();
            }
        }
        EXPECT_TRUE(refused_naming(*client, session, "--limit-waits"));
        surfaces.clear();
    }
    EXPECT_TRUE(wait_until([&] { return session.fd_count() <= baseline; }, 10s))
        << session.fd_count() << " fds, " << baseline << " before\n" << session.fd_list();
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

TEST(Limits, DmabufFdsPerClient)
{
    SyncSession session({"--limit-dmabuf-fds", "6"});
    ASSERT_TRUE(session.ready()) << session.log();
    UniqueFd warm_up;
    int baseline = settled_fd_count(session, warm_up);
    {
        auto client = session.connect();
        ASSERT_TRUE(client->dmabuf()) << "linux-dmabuf not advertised";
        // Parked in params (4 planes) and in two buffers (one fd each): 6.
        auto* params = client->own(zwp_linux_dmabuf_v1_create_params(client->dmabuf()));
        for (uint32_t plane = 0; plane < 4; ++plane) {
            UniqueFd fd = memfd(4096);
            zwp_linux_buffer_params_v1_add(params, fd.get(), plane, 0, 64, 0, 0);
        }
        for (int b = 0; b < 2; ++b) {
            UniqueFd fd = memfd(64 * 16);
            fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK);
            auto* p = client->own(zwp_linux_dmabuf_v1_create_params(client->dmabuf()));
            zwp_linux_buffer_params_v1_add(p, fd.get(), 0, 0, 64, 0, 0);
            client->own(zwp_linux_buffer_params_v1_create_immed(p, 16, 16, DRM_FORMAT_XRGB8888, 0));
        }
        ASSERT_TRUE(client->roundtrip()) << "6 fds are within the limit\n" << session.log();
        EXPECT_EQ(held_memfds(session), 6) << session.fd_list();
        auto* more = client->own(zwp_linux_dmabuf_v1_create_params(client->dmabuf()));
        UniqueFd fd = memfd(4096);
        zwp_linux_buffer_params_v1_add(more, fd.get(), 0, 0, 64, 0, 0);
        EXPECT_TRUE(refused_naming(*client, session, "--limit-dmabuf-fds"));
    }
    EXPECT_TRUE(wait_until([&] { return held_memfds(session) == 0 && session.fd_count() <= baseline; }, 10s))
        << session.fd_count() << " fds, " << baseline << " before\n" << session.fd_list();
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// Connections cost the compositor an fd each: beyond the budget they are refused.
TEST(Limits, ConnectionsBeyondTheFdBudgetAreRefused)
{
    // 1024 - 1000: 24 fds for clients' objects and connections.
    SyncSession session({"--fd-headroom", "1000"}, {"prlimit", "--nofile=1024:1024", "--"});
    ASSERT_TRUE(session.ready()) << session.log();
    // Raw connections (a refused one may fail while binding, which Client would throw on).
    std::vector<wl_display*> clients;
    int refused = 0;
    const std::string path = session.compositor().runtime_dir() + "/" + session.compositor().socket();
    for (int i = 0; i < 40; ++i) {
        wl_display* display = wl_display_connect(path.c_str());
        ASSERT_TRUE(display);
        clients.push_back(display);
        refused += wl_display_roundtrip(display) < 0;
    }
    EXPECT_GE(refused, 16) << session.log();
    EXPECT_LE(refused, 40 - 20) << session.log();
    EXPECT_NE(session.log().find("--fd-headroom"), std::string::npos) << session.log();
    for (wl_display* display : clients)
        wl_display_disconnect(display);
    EXPECT_TRUE(wait_until([&] { return shm_client_served(session); }, 10s));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// A held commit is never left without a wait: when none can be armed (here the compositor is out
// of file descriptors, its soft RLIMIT_NOFILE lowered under it to what it has open), the client
// is disconnected with an error whose explanation names the cause, and once fds are available
// again the compositor serves the next client.
TEST(Limits, WaitThatCannotBeArmedDisconnectsWithTheCause)
{
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    SyncTimeline timeline(session, *client);
    Buffer buffer(client->shm(), 32, 32, red);
    Surface surface(*client);
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();

    NoNewFds no_new_fds(session.pid());
    ASSERT_TRUE(no_new_fds.ok()) << std::strerror(errno);
    surface.attach(buffer);
    surface.set_points(timeline.object, 1, timeline.object, 2);  // acquire not signaled: held
    surface.commit();
    bool died = !client->roundtrip();
    no_new_fds.restore();
    ASSERT_TRUE(died) << "the commit was held without a wait, or waited with an fd over the limit\n" << session.log();
    ASSERT_TRUE(client->error());
    EXPECT_EQ(client->error()->code, WL_DISPLAY_ERROR_IMPLEMENTATION);
    EXPECT_TRUE(wait_until([&] { return session.log().find("cannot wait for acquire point 1") != std::string::npos; }, 5s))
        << session.log();
    EXPECT_NE(session.log().find("Too many open files"), std::string::npos) << session.log();
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// The same when the wait that cannot be armed is for the next held commit, armed when the
// earlier one's point signals: not in a request of the client's. The client is disconnected
// then, not when it next sends something (one that sends nothing more would otherwise stay
// connected, its commit held with no wait).
TEST(Limits, WaitThatCannotBeArmedLaterDisconnectsAtOnce)
{
    SyncSession session;
    ASSERT_TRUE(session.ready()) << session.log();
    auto client = session.connect();
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer first(client->shm(), 32, 32, red), second(client->shm(), 32, 32, blue);
    Surface surface(*client);
    surface.attach(first);
    surface.set_points(acquire.object, 1, release.object, 1);
    surface.commit();
    surface.attach(second);
    surface.set_points(acquire.object, 2, release.object, 2);
    surface.commit();
    ASSERT_TRUE(client->roundtrip()) << session.log();  // both held; a wait armed for point 1

    NoNewFds no_new_fds(session.pid());
    ASSERT_TRUE(no_new_fds.ok()) << std::strerror(errno);
    session.dev().signal(acquire.fd.get(), 1);  // the wait for point 2 is armed now, and cannot be
    bool closed = closed_by_compositor(*client, 5s);
    no_new_fds.restore();
    ASSERT_TRUE(closed) << "the client is still connected, its commit held with no wait\n" << session.log();
    EXPECT_TRUE(wait_until([&] { return session.log().find("cannot wait for acquire point 2") != std::string::npos; }, 5s))
        << session.log();
    EXPECT_TRUE(shm_client_served(session));
    EXPECT_TRUE(session.shuts_down_cleanly());
}
