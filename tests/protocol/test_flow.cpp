// Acquire and release against the real compositor: held commits never reach the screen before
// their acquire point signals, failed ones never; release points are signaled when the
// compositor lets go of the buffer, whatever ends its use (replacement, destruction, a client
// killed mid-wait).
#include "sync_session.hpp"

#include "presentation-time-client-protocol.h"

#include <signal.h>
#include <sys/wait.h>

using namespace syncway;
using namespace syncway::test;
using namespace std::chrono_literals;

namespace {

class Flow : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(session.ready()) << session.log();
        client = session.connect();
        ready = std::make_unique<SyncTimeline>(session, *client);
        session.dev().signal(ready->fd.get(), 1000000);
    }
    void TearDown() override
    {
        ready.reset();
        client.reset();
        EXPECT_TRUE(session.shuts_down_cleanly());
    }
    bool signaled(const SyncTimeline& t, uint64_t point) const
    {
        return session.dev().state(t.fd.get(), point) == SYNCOBJ_POINT_SIGNALED;
    }
    bool becomes_signaled(const SyncTimeline& t, uint64_t point) const
    {
        return session.dev().wait_signaled(t.fd.get(), point, client_timeout);
    }
    // A commit whose acquire point is already signaled.
    void show_now(Surface& surface, const Buffer& buffer, const SyncTimeline& release, uint64_t point)
    {
        surface.attach(buffer);
        surface.set_points(ready->object, 1, release.object, point);
        surface.commit();
    }

    SyncSession session;
    std::unique_ptr<Client> client;
    std::unique_ptr<SyncTimeline> ready;  // every point signaled
};

constexpr int probe_x = 50, probe_y = 50;  // inside every test window (at the output's corner)

} // namespace

TEST_F(Flow, CommitHeldUntilAcquireSignaled)
{
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer old_content(client->shm(), 200, 200, red), new_content(client->shm(), 200, 200, blue);

    show_now(surface, old_content, release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red)) << session.log();

    surface.attach(new_content);
    surface.set_points(acquire.object, 1, release.object, 2);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_EQ(session.pixel(probe_x, probe_y), rgb(red)) << "the held buffer reached the screen";
    EXPECT_FALSE(signaled(release, 1)) << "the shown buffer was released";

    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(session.shows(probe_x, probe_y, blue, 5s)) << "the signaled commit never showed";
    // The old buffer was replaced: released; the new one is on screen: not.
    EXPECT_TRUE(becomes_signaled(release, 1));
    EXPECT_FALSE(signaled(release, 2));
    EXPECT_TRUE(client->roundtrip());
}

TEST_F(Flow, SubmittedPointSignaledFromAnotherThread)
{
    // Wait-before-signal: the point is submitted before the commit and signaled afterwards by
    // its signaler (what a render thread does).
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer content(client->shm(), 200, 200, green);
    auto signaler = session.dev().submit(acquire.fd.get(), 7);
    surface.attach(content);
    surface.set_points(acquire.object, 7, release.object, 1);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_NE(session.pixel(probe_x, probe_y), rgb(green));
    std::thread render([&] { session.dev().signal_with(signaler.get()); });
    render.join();
    EXPECT_TRUE(session.shows(probe_x, probe_y, green, 5s));
}

TEST_F(Flow, LaterCommitsQueueBehindHeldOne)
{
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer first(client->shm(), 200, 200, red), held(client->shm(), 200, 200, blue),
        after(client->shm(), 200, 200, green);
    show_now(surface, first, release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red));

    surface.attach(held);
    surface.set_points(acquire.object, 1, release.object, 2);
    surface.commit();
    show_now(surface, after, release, 3);  // already signaled, but behind the held commit
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_EQ(session.pixel(probe_x, probe_y), rgb(red));

    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(session.shows(probe_x, probe_y, green, 5s));
    // Both replaced buffers are released promptly, the one never shown included.
    EXPECT_TRUE(becomes_signaled(release, 1));
    EXPECT_TRUE(becomes_signaled(release, 2));
    EXPECT_FALSE(signaled(release, 3));
}

TEST_F(Flow, FailedAcquireNeverShows)
{
    Surface surface(*client);
    // Separate release timelines: signaling a point also signals every point below it.
    SyncTimeline acquire(session, *client), release(session, *client), doomed_release(session, *client);
    Buffer old_content(client->shm(), 200, 200, red), doomed(client->shm(), 300, 100, blue),
        later(client->shm(), 200, 200, green);
    show_now(surface, old_content, release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red));

    // The signaler lives in another process, which dies without signaling.
    auto signaler = session.dev().submit(acquire.fd.get(), 1);
    pid_t renderer = fork();
    ASSERT_GE(renderer, 0);
    if (renderer == 0) {
        pause();
        _exit(0);
    }
    signaler.reset();
    surface.attach(doomed);
    surface.set_points(acquire.object, 1, doomed_release.object, 1);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    kill(renderer, SIGKILL);
    waitpid(renderer, nullptr, 0);

    // Dropped: its release point is signaled, the old content stays.
    EXPECT_TRUE(becomes_signaled(doomed_release, 1)) << session.log();
    int error = 0;
    EXPECT_EQ(session.dev().state(acquire.fd.get(), 1, &error), SYNCOBJ_POINT_FAILED);
    let_frames_pass();
    EXPECT_EQ(session.pixel(probe_x, probe_y), rgb(red)) << "the failed buffer was shown";
    EXPECT_EQ(session.pixel(250, 50), background) << "the surface took the failed buffer's size";
    EXPECT_FALSE(signaled(release, 1)) << "the content on screen was released";
    EXPECT_NE(session.log().find("commit dropped"), std::string::npos) << session.log();

    // The surface is not stuck: the next commit shows.
    show_now(surface, later, release, 2);
    ASSERT_TRUE(client->roundtrip());
    EXPECT_TRUE(session.shows(probe_x, probe_y, green, 5s));
    EXPECT_TRUE(becomes_signaled(release, 1));
}

TEST_F(Flow, ReleasedWhenSurfaceDestroyed)
{
    auto surface = std::make_unique<Surface>(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer shown(client->shm(), 200, 200, red), held(client->shm(), 200, 200, blue);
    show_now(*surface, shown, release, 1);
    surface->attach(held);
    surface->set_points(acquire.object, 1, release.object, 2);
    surface->commit();
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red));
    EXPECT_FALSE(signaled(release, 1));
    EXPECT_FALSE(signaled(release, 2));

    surface.reset();  // the sync object, the toplevel and the wl_surface, mid-wait
    ASSERT_TRUE(client->roundtrip());
    EXPECT_TRUE(becomes_signaled(release, 1));
    EXPECT_TRUE(becomes_signaled(release, 2));
    EXPECT_FALSE(signaled(acquire, 1));
    EXPECT_TRUE(client->roundtrip());
}

TEST_F(Flow, HeldCommitHonouredAfterSyncObjectDestroyed)
{
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer shown(client->shm(), 200, 200, red), held(client->shm(), 200, 200, blue);
    show_now(surface, shown, release, 1);
    surface.attach(held);
    surface.set_points(acquire.object, 1, release.object, 2);
    surface.commit();
    surface.destroy_sync();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_EQ(session.pixel(probe_x, probe_y), rgb(red));
    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(session.shows(probe_x, probe_y, blue, 5s));
    EXPECT_TRUE(becomes_signaled(release, 1));
}

TEST_F(Flow, ClientKilledWhileHundredCommitsWait)
{
    constexpr int commits = 100;
    UniqueFd acquire = session.dev().create_timeline(), release = session.dev().create_timeline();
    int baseline_fds = session.fd_count();
    int ready_pipe[2];
    ASSERT_EQ(pipe(ready_pipe), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The doomed client: its own connections, its commits all waiting.
        close(ready_pipe[0]);
        try {
            Client c(session.compositor().runtime_dir(), session.compositor().socket());
            Surface surface(c);
            auto* acq = c.import(acquire.get());
            auto* rel = c.import(release.get());
            std::vector<std::unique_ptr<Buffer>> buffers;
            for (int i = 1; i <= commits; ++i) {
                buffers.push_back(std::make_unique<Buffer>(c.shm(), 64, 64, i % 2 ? red : blue));
                surface.attach(*buffers.back());
                surface.set_points(acq, i, rel, i);
                surface.commit();
            }
            if (!c.roundtrip())
                _exit(2);
            char ok = 'k';
            if (write(ready_pipe[1], &ok, 1) != 1)
                _exit(3);
            pause();
        } catch (...) {
            _exit(4);
        }
        _exit(0);
    }
    close(ready_pipe[1]);
    char ok = 0;
    ASSERT_EQ(read(ready_pipe[0], &ok, 1), 1) << "the child client failed";
    close(ready_pipe[0]);
    for (int i = 1; i <= commits; ++i)
        ASSERT_FALSE(session.dev().state(release.get(), i) == SYNCOBJ_POINT_SIGNALED) << "point " << i;

    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    for (int i = 1; i <= commits; ++i)
        ASSERT_TRUE(session.dev().wait_signaled(release.get(), i, client_timeout)) << "release point " << i;
    // The sanitized build on a busy machine can take seconds to tear the dead client down.
    EXPECT_TRUE(wait_until([&] { return session.fd_count() <= baseline_fds; }, 15s))
        << "compositor fds: " << session.fd_count() << ", before: " << baseline_fds << "\n" << session.fd_list();
    EXPECT_TRUE(client->roundtrip());
    EXPECT_TRUE(session.compositor().process().running());
}

TEST_F(Flow, HundredSurfacesWaitAtOnce)
{
    constexpr int count = 100;
    SyncTimeline acquire(session, *client), release(session, *client), shown_release(session, *client);
    // A buffer shown on several surfaces is released when the last lets go: one each.
    std::vector<std::unique_ptr<Buffer>> firsts;
    Buffer second(client->shm(), 16, 16, blue);
    std::vector<std::unique_ptr<Surface>> surfaces;
    for (int i = 1; i <= count; ++i) {
        surfaces.push_back(std::make_unique<Surface>(*client));
        firsts.push_back(std::make_unique<Buffer>(client->shm(), 16, 16, red));
        show_now(*surfaces.back(), *firsts.back(), shown_release, i);
        surfaces.back()->attach(second);
        surfaces.back()->set_points(acquire.object, i, release.object, i);
        surfaces.back()->commit();
    }
    ASSERT_TRUE(client->roundtrip());
    // Every surface waits (one eventfd each); nothing applied: every first buffer is still
    // shown, so none of their release points is signaled.
    int waiting_fds = session.fd_count();
    for (int i = 1; i <= count; ++i)
        ASSERT_FALSE(signaled(shown_release, i)) << "surface " << i;

    session.dev().signal(acquire.fd.get(), count / 2);
    for (int i = 1; i <= count / 2; ++i)
        ASSERT_TRUE(becomes_signaled(shown_release, i)) << "surface " << i << " did not apply";
    client->roundtrip();
    for (int i = count / 2 + 1; i <= count; ++i)
        ASSERT_FALSE(signaled(shown_release, i)) << "surface " << i << " applied early";
    session.dev().signal(acquire.fd.get(), count);
    for (int i = count / 2 + 1; i <= count; ++i)
        ASSERT_TRUE(becomes_signaled(shown_release, i)) << "surface " << i << " did not apply";
    // The waits' eventfds are closed once their points signal.
    EXPECT_TRUE(wait_until([&] { return session.fd_count() <= waiting_fds - count; }, 5s))
        << "compositor fds: " << session.fd_count() << ", while waiting: " << waiting_fds;
}

TEST_F(Flow, TimelineSharedBySubsurfaces)
{
    // A 600x200 toplevel with three desynchronized 200x200 subsurfaces side by side, all
    // acquiring on one timeline (points 1, 2, 3) and releasing on another.
    Surface parent(*client);
    Buffer backdrop(client->shm(), 600, 200, yellow);
    parent.attach(backdrop);
    parent.commit();
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer before(client->shm(), 200, 200, red), after(client->shm(), 200, 200, blue);
    std::vector<std::unique_ptr<Surface>> children;
    for (int i = 0; i < 3; ++i) {
        children.push_back(std::make_unique<Surface>(*client, parent, 200 * i, 0, true));
        show_now(*children.back(), before, release, 10 + i);
    }
    parent.commit();  // applies the subsurfaces' positions
    ASSERT_TRUE(client->roundtrip());
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(session.shows(100 + 200 * i, 100, red)) << "subsurface " << i;

    for (int i = 0; i < 3; ++i) {
        children[i]->attach(after);
        children[i]->set_points(acquire.object, i + 1, release.object, 20 + i);
        children[i]->commit();
    }
    ASSERT_TRUE(client->roundtrip());
    session.dev().signal(acquire.fd.get(), 2);
    ASSERT_TRUE(session.shows(100, 100, blue, 5s));
    ASSERT_TRUE(session.shows(300, 100, blue, 5s));
    let_frames_pass();
    EXPECT_EQ(session.pixel(500, 100), rgb(red));
    session.dev().signal(acquire.fd.get(), 3);
    EXPECT_TRUE(session.shows(500, 100, blue, 5s));
}

// A parent's commit that applies a synchronized subsurface's state is one transaction with it:
// it waits for the subsurface's acquire point too, and both show in the same frame (neither the
// parent's new content nor the child's shows alone).
TEST_F(Flow, SynchronizedSubsurfaceTransactionWaitsForItsPoint)
{
    Surface parent(*client);
    Buffer parent_old(client->shm(), 300, 300, yellow), parent_new(client->shm(), 300, 300, green);
    parent.attach(parent_old);
    parent.commit();
    Surface child(*client, parent, 100, 100, false);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer child_old(client->shm(), 100, 100, red), child_new(client->shm(), 100, 100, blue);
    show_now(child, child_old, release, 1);
    parent.commit();
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(150, 150, red));
    ASSERT_TRUE(session.shows(20, 20, yellow));

    child.attach(child_new);
    child.set_points(acquire.object, 1, release.object, 2);
    child.commit();
    parent.attach(parent_new);  // no points of its own: wl_shm, implicit
    parent.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    auto held = session.compositor().screenshot();
    ASSERT_TRUE(held);
    EXPECT_EQ(held->at(20, 20), rgb(yellow)) << "the parent's part of the transaction showed alone";
    EXPECT_EQ(held->at(150, 150), rgb(red)) << "the child's held buffer showed";

    session.dev().signal(acquire.fd.get(), 1);
    auto both = session.compositor().wait_for_screenshot(
        [](const Image& i) { return i.at(20, 20) != rgb(yellow) || i.at(150, 150) != rgb(red); }, 5s);
    ASSERT_TRUE(both) << "nothing of the transaction showed after its point was signaled";
    EXPECT_EQ(both->at(20, 20), rgb(green));
    EXPECT_EQ(both->at(150, 150), rgb(blue)) << "the first frame after the signal showed half a transaction";
    EXPECT_TRUE(becomes_signaled(release, 1));
}

// The other way round: the parent waits for its own acquire point, and the synchronized child's
// new state (ready at once) waits with it.
TEST_F(Flow, SynchronizedSubsurfaceWaitsForItsParentsPoint)
{
    Surface parent(*client);
    SyncTimeline acquire(session, *client), release(session, *client), child_release(session, *client);
    Buffer parent_old(client->shm(), 300, 300, yellow), parent_new(client->shm(), 300, 300, green);
    show_now(parent, parent_old, release, 1);
    Surface child(*client, parent, 100, 100, false);
    Buffer child_old(client->shm(), 100, 100, red), child_new(client->shm(), 100, 100, blue);
    show_now(child, child_old, child_release, 1);
    parent.commit();
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(150, 150, red));

    show_now(child, child_new, child_release, 2);  // ready at once, synchronized
    parent.attach(parent_new);
    parent.set_points(acquire.object, 1, release.object, 2);
    parent.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    auto held = session.compositor().screenshot();
    ASSERT_TRUE(held);
    EXPECT_EQ(held->at(150, 150), rgb(red)) << "the child's state showed before its parent's";
    EXPECT_EQ(held->at(20, 20), rgb(yellow));

    session.dev().signal(acquire.fd.get(), 1);
    auto both = session.compositor().wait_for_screenshot(
        [](const Image& i) { return i.at(20, 20) != rgb(yellow) || i.at(150, 150) != rgb(red); }, 5s);
    ASSERT_TRUE(both);
    EXPECT_EQ(both->at(20, 20), rgb(green));
    EXPECT_EQ(both->at(150, 150), rgb(blue));
}

TEST_F(Flow, WestonSimpleShmKeepsWorkingBeside)
{
    // Our window fills the output; weston-simple-shm's 250x250 window opens on top of it.
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer shown(client->shm(), 640, 480, red), held(client->shm(), 640, 480, blue);
    show_now(surface, shown, release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(500, 400, red));
    surface.attach(held);
    surface.set_points(acquire.object, 1, release.object, 2);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());

    Process simple_shm({"weston-simple-shm"}, session.compositor().client_env());
    constexpr Rect rings{40, 40, 170, 170};
    auto drawn = [&](const Image& image) { return image.distinct_colors(rings) > 50; };
    auto first = session.compositor().wait_for_screenshot(drawn);
    ASSERT_TRUE(first && drawn(*first)) << simple_shm.output() << session.log();
    auto later = session.compositor().wait_for_screenshot(
        [&](const Image& image) { return drawn(image) && !image.same_pixels(*first, rings); });
    EXPECT_TRUE(later && !later->same_pixels(*first, rings)) << "weston-simple-shm stopped animating";
    EXPECT_EQ(later->at(500, 400), rgb(red)) << "our held commit showed";

    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(session.shows(500, 400, blue, 5s));
    EXPECT_TRUE(simple_shm.running()) << simple_shm.output();
}

// weston-subsurfaces: its wl_shm sub-surface synchronized (applied with the parent's commits,
// through the subsurface transactions), its EGL one free-running; both show, and the EGL one
// keeps animating (a synchronized EGL one animates only when the demo's parent redraws).
TEST_F(Flow, WestonSubsurfacesKeepsWorking)
{
    Process demo({"weston-subsurfaces", "--red-mode=1", "--triangle-mode=0"}, session.compositor().client_env());
    constexpr Rect triangle{440, 280, 160, 160};  // the GL sub-surface, lower right of the window
    auto drawn = [&](const Image& image) { return image.distinct_colors(triangle) > 20; };
    auto first = session.compositor().wait_for_screenshot(drawn);
    ASSERT_TRUE(first && drawn(*first)) << demo.output() << session.log();
    auto later = session.compositor().wait_for_screenshot(
        [&](const Image& image) { return drawn(image) && !image.same_pixels(*first, triangle); });
    EXPECT_TRUE(later && !later->same_pixels(*first, triangle)) << "weston-subsurfaces stopped animating";
    // The synchronized red sub-surface, upper right.
    Rgb red_part = later->at(520, 150);
    EXPECT_TRUE(red_part.r > 120 && red_part.g < 80 && red_part.b < 80) << "the synchronized sub-surface is missing";
    EXPECT_TRUE(demo.running()) << demo.output();
}

TEST_F(Flow, LinuxDmabufBufferHeldUntilSignaled)
{
    // linux-dmabuf buffers (heaps/ allocations, mapped by the pixman renderer) with explicit
    // sync: the guaranteed case of the protocol.
    if (!client->dmabuf())
        GTEST_SKIP() << "zwp_linux_dmabuf_v1 (v3+) is not advertised";
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client), old_release(session, *client);
    Buffer shown(client->dmabuf(), 200, 200, red), held(client->dmabuf(), 200, 200, blue);
    surface.attach(shown);
    surface.set_points(ready->object, 1, old_release.object, 1);
    surface.commit();
    ASSERT_TRUE(client->roundtrip()) << session.log();
    ASSERT_TRUE(session.shows(probe_x, probe_y, red)) << session.log();

    surface.attach(held);
    surface.set_points(acquire.object, 1, release.object, 1);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_EQ(session.pixel(probe_x, probe_y), rgb(red));
    EXPECT_FALSE(signaled(old_release, 1));
    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(session.shows(probe_x, probe_y, blue, 5s));
    EXPECT_TRUE(becomes_signaled(old_release, 1));
    EXPECT_FALSE(signaled(release, 1));
}

TEST_F(Flow, CursorImageShownOnlyAfterItsAcquirePoint)
{
    // The pointer rests at (0, 0), where our window maps: we get its focus, and set a cursor
    // surface whose images are explicitly synchronized.
    Surface window(*client);
    Buffer content(client->shm(), 300, 300, red);
    window.attach(content);
    window.commit();
    ASSERT_TRUE(wait_until([&] { return client->roundtrip() && client->enter_serial() != 0; }, client_timeout))
        << "no wl_pointer.enter";
    Surface cursor(*client, Surface::NoRole{});
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer arrow(client->shm(), 24, 24, green), next_arrow(client->shm(), 24, 24, blue);
    show_now(cursor, arrow, release, 1);
    wl_pointer_set_cursor(client->pointer(), client->enter_serial(), cursor.get(), 0, 0);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(10, 10, green)) << "the cursor image never showed";
    EXPECT_EQ(session.pixel(100, 100), rgb(red));

    cursor.attach(next_arrow);
    cursor.set_points(acquire.object, 1, release.object, 2);
    cursor.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_EQ(session.pixel(10, 10), rgb(green)) << "the held cursor image showed";
    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(session.shows(10, 10, blue, 5s));
    EXPECT_TRUE(becomes_signaled(release, 1));
}

TEST_F(Flow, CompositorShutsDownCleanlyWhileCommitsWait)
{
    // Held commits, waits armed and release points pending when syncway is told to quit: it
    // exits 0 (in the sanitizer build: nothing leaked, nothing freed twice).
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer shown(client->shm(), 64, 64, red), held(client->shm(), 64, 64, blue);
    show_now(surface, shown, release, 1);
    for (uint64_t point = 1; point <= 3; ++point) {
        surface.attach(held);
        surface.set_points(acquire.object, point, release.object, 1 + point);
        surface.commit();
    }
    ASSERT_TRUE(client->roundtrip());
    EXPECT_TRUE(session.shuts_down_cleanly());
}

// Per-commit release: a buffer committed again releases the earlier commit's point as soon as
// the later commit applies (the later point now covers the buffer), not when the buffer is
// finally let go. A client that waits for its previous point before drawing never stalls.
TEST_F(Flow, RecommittedBufferReleasesTheEarlierCommitsPoint)
{
    Surface surface(*client);
    SyncTimeline first_release(session, *client), second_release(session, *client);
    Buffer buffer(client->shm(), 200, 200, red);
    show_now(surface, buffer, first_release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red));
    EXPECT_FALSE(signaled(first_release, 1)) << "released while its commit is on screen";

    show_now(surface, buffer, second_release, 1);  // the same buffer again
    ASSERT_TRUE(client->roundtrip());
    EXPECT_TRUE(becomes_signaled(first_release, 1)) << "the replaced commit's point stalls";
    EXPECT_FALSE(signaled(second_release, 1)) << "the current commit's point was signaled";
}

// ... and not before the later commit applies: one held for its acquire point keeps the
// earlier point pending until it shows.
TEST_F(Flow, RecommittedBufferHeldKeepsTheEarlierPointUntilApplied)
{
    Surface surface(*client);
    SyncTimeline acquire(session, *client), first_release(session, *client), second_release(session, *client);
    Buffer buffer(client->shm(), 200, 200, red);
    show_now(surface, buffer, first_release, 1);
    ASSERT_TRUE(client->roundtrip());
    surface.attach(buffer);
    surface.set_points(acquire.object, 1, second_release.object, 1);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_FALSE(signaled(first_release, 1)) << "released before the commit replacing it applied";
    session.dev().signal(acquire.fd.get(), 1);
    EXPECT_TRUE(becomes_signaled(first_release, 1));
    EXPECT_FALSE(signaled(second_release, 1));
}

// A release point set and replaced before any commit used it, and one pending when the
// wp_linux_drm_syncobj_surface_v1 is destroyed, are signaled (a client may wait on them).
TEST_F(Flow, ReleasePointsNeverCommittedAreSignaled)
{
    Surface surface(*client);
    SyncTimeline replaced(session, *client), abandoned(session, *client), used(session, *client);
    Buffer buffer(client->shm(), 200, 200, red);
    surface.attach(buffer);
    surface.set_points(ready->object, 1, replaced.object, 1);
    surface.set_points(nullptr, 0, used.object, 1);  // replaces the release point
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    EXPECT_TRUE(becomes_signaled(replaced, 1)) << "a replaced release point was dropped";
    EXPECT_FALSE(signaled(used, 1));

    surface.set_points(nullptr, 0, abandoned.object, 1);
    surface.destroy_sync();
    ASSERT_TRUE(client->roundtrip());
    EXPECT_TRUE(becomes_signaled(abandoned, 1)) << "a pending release point was dropped with its object";
}

namespace {

// What the compositor said of one wp_presentation_feedback.
struct Feedback {
    enum class Said { Nothing, Presented, Discarded };
    Said said = Said::Nothing;
    uint64_t when_ns = 0;  // presentation time (the headless output counts no frames)

    void request(wp_presentation* presentation, wl_surface* surface)
    {
        static const wp_presentation_feedback_listener listener = {
            .sync_output = [](void*, struct wp_presentation_feedback*, wl_output*) {},
            .presented =
                [](void* data, struct wp_presentation_feedback* fb, uint32_t sec_hi, uint32_t sec_lo, uint32_t nsec,
                   uint32_t, uint32_t, uint32_t, uint32_t) {
                    auto* self = static_cast<Feedback*>(data);
                    self->said = Said::Presented;
                    self->when_ns = ((uint64_t(sec_hi) << 32) | sec_lo) * 1000000000ull + nsec;
                    wp_presentation_feedback_destroy(fb);
                },
            .discarded =
                [](void* data, struct wp_presentation_feedback* fb) {
                    static_cast<Feedback*>(data)->said = Said::Discarded;
                    wp_presentation_feedback_destroy(fb);
                },
        };
        wp_presentation_feedback_add_listener(wp_presentation_feedback(presentation, surface), &listener, this);
    }
};

wp_presentation* bind_presentation(Client& client)
{
    wp_presentation* found = nullptr;
    static const wl_registry_listener listener = {
        .global =
            [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
                if (std::string_view(interface) == wp_presentation_interface.name)
                    *static_cast<wp_presentation**>(data) = static_cast<wp_presentation*>(
                        wl_registry_bind(registry, name, &wp_presentation_interface, 1));
            },
        .global_remove = [](void*, wl_registry*, uint32_t) {},
    };
    wl_registry* registry = wl_display_get_registry(client.display());
    wl_registry_add_listener(registry, &listener, &found);
    client.roundtrip();
    wl_registry_destroy(registry);
    return found;
}

} // namespace

// xdg-shell state sent while an earlier commit is held applies with the commit it was sent with:
// the held frame shows at its own window geometry, not at the one the client set for the next
// frame (wlroots 0.15 keeps one pending copy of xdg-shell state per surface, which its role
// commit reads whenever any state of the surface applies).
TEST_F(Flow, WindowGeometryAppliesWithItsOwnCommit)
{
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer first(client->shm(), 200, 200, red), held(client->shm(), 200, 200, blue), next(client->shm(), 200, 200, green);
    show_now(surface, first, release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red));

    // The held frame: the whole surface is the window. The next frame's window is its lower
    // right quarter, so the scene draws that surface 100 pixels up and left.
    constexpr int inner_x = 150, inner_y = 150;  // inside the held frame, outside the next one
    surface.attach(held);
    surface.set_points(acquire.object, 1, release.object, 2);
    surface.commit();
    surface.set_window_geometry(100, 100, 100, 100);
    surface.attach(next);
    surface.set_points(acquire.object, 2, release.object, 3);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    EXPECT_EQ(session.pixel(inner_x, inner_y), rgb(red));

    session.dev().signal(acquire.fd.get(), 1);
    ASSERT_TRUE(session.shows(probe_x, probe_y, blue, 5s)) << session.log();
    let_frames_pass();
    EXPECT_EQ(session.pixel(inner_x, inner_y), rgb(blue)) << "the held frame was shown at the next frame's window geometry";

    session.dev().signal(acquire.fd.get(), 2);
    ASSERT_TRUE(session.shows(probe_x, probe_y, green, 5s)) << session.log();
    EXPECT_NE(session.pixel(inner_x, inner_y), rgb(green)) << "the next frame's window geometry was lost";
    EXPECT_TRUE(client->roundtrip());
}

// wp_presentation feedback requested with a held commit is reported for that commit's own
// presentation: not merged with the feedback of a commit sent while it was held (which wlroots
// 0.15 keeps in one pending group per surface), not discarded.
TEST_F(Flow, FeedbackOfHeldCommitsIsPerCommit)
{
    wp_presentation* presentation = bind_presentation(*client);
    ASSERT_NE(presentation, nullptr);
    Surface surface(*client);
    SyncTimeline acquire(session, *client), release(session, *client);
    Buffer first(client->shm(), 200, 200, red), second(client->shm(), 200, 200, blue), third(client->shm(), 200, 200, green);
    show_now(surface, first, release, 1);
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(probe_x, probe_y, red));

    Feedback held_first, held_second;
    held_first.request(presentation, surface.get());
    surface.attach(second);
    surface.set_points(acquire.object, 1, release.object, 2);
    surface.commit();
    held_second.request(presentation, surface.get());
    surface.attach(third);
    surface.set_points(acquire.object, 2, release.object, 3);
    surface.commit();
    ASSERT_TRUE(client->roundtrip());
    let_frames_pass();
    ASSERT_TRUE(client->roundtrip());
    EXPECT_EQ(held_first.said, Feedback::Said::Nothing) << "feedback for a held commit before it showed";
    EXPECT_EQ(held_second.said, Feedback::Said::Nothing);

    session.dev().signal(acquire.fd.get(), 1);
    ASSERT_TRUE(wait_until([&] { return client->roundtrip() && held_first.said != Feedback::Said::Nothing; }, 5s));
    EXPECT_EQ(held_first.said, Feedback::Said::Presented);
    let_frames_pass();
    ASSERT_TRUE(client->roundtrip());
    EXPECT_EQ(held_second.said, Feedback::Said::Nothing) << "the second commit's feedback came with the first's frame";

    session.dev().signal(acquire.fd.get(), 2);
    ASSERT_TRUE(wait_until([&] { return client->roundtrip() && held_second.said != Feedback::Said::Nothing; }, 5s));
    EXPECT_EQ(held_second.said, Feedback::Said::Presented);
    EXPECT_GT(held_second.when_ns, held_first.when_ns);
    wp_presentation_destroy(presentation);
}

// The same for a synchronized subsurface, whose commits wlroots caches until its parent commits:
// two commits before the parent's, each with feedback: the first is replaced unseen (discarded),
// the second is presented (wlroots 0.15 merged them and discarded both).
TEST_F(Flow, FeedbackOfSynchronizedSubsurfaceCommitsIsPerCommit)
{
    wp_presentation* presentation = bind_presentation(*client);
    ASSERT_NE(presentation, nullptr);
    Surface parent(*client);
    Buffer backdrop(client->shm(), 300, 300, yellow);
    parent.attach(backdrop);
    parent.commit();
    Surface child(*client, parent, 100, 100, false);
    Buffer first(client->shm(), 100, 100, red), second(client->shm(), 100, 100, blue);
    wl_surface_attach(child.get(), first.get(), 0, 0);
    wl_surface_commit(child.get());
    parent.commit();
    ASSERT_TRUE(client->roundtrip());
    ASSERT_TRUE(session.shows(150, 150, red));

    Feedback replaced, shown;
    replaced.request(presentation, child.get());
    wl_surface_attach(child.get(), second.get(), 0, 0);
    wl_surface_damage(child.get(), 0, 0, 100, 100);
    wl_surface_commit(child.get());
    shown.request(presentation, child.get());
    wl_surface_damage(child.get(), 0, 0, 100, 100);
    wl_surface_commit(child.get());
    parent.commit();
    ASSERT_TRUE(wait_until([&] { return client->roundtrip() && shown.said != Feedback::Said::Nothing; }, 5s));
    EXPECT_EQ(shown.said, Feedback::Said::Presented) << "the feedback of the state on screen was discarded";
    EXPECT_EQ(replaced.said, Feedback::Said::Discarded);
    wp_presentation_destroy(presentation);
}
