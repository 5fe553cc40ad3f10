// The compositor-facing API (timeline_host.hpp): a host process embedding the service in its
// own loop, with real client processes that use the C library through $SYNCWAY_SYNCOBJ_SOCKET.
#include "embedded_service.hpp"

#include <syncobj/timeline_host.hpp>

#include <sys/mman.h>

#include <fcntl.h>

#include <optional>

using namespace syncobj_test;
using namespace syncway::syncobj;

namespace {

class Host : public ::testing::Test {
protected:
    void SetUp() override
    {
        fds_before_ = count_open_fds();
        dir_ = make_temp_dir();
        HostOptions opt;
        opt.socket_path = dir_ + "/host.sock";
        auto h = TimelineHost::create(opt);
        ASSERT_TRUE(h.ok()) << h.error().message;
        host_ = std::move(h.value());
        setenv(kSocketEnv, host_->socket_path().c_str(), 1);
        setenv(kBackendEnv, "service", 1);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_), 0);
    }
    void TearDown() override
    {
        for (pid_t p : children_) {
            kill(p, SIGKILL);
            waitpid(p, nullptr, 0);
        }
        close(sv_[0]);
        close(sv_[1]);
        host_.reset();
        rmdir(dir_.c_str());
        EXPECT_EQ(count_open_fds(), fds_before_) << "fd leak";
    }
    // The host's loop: dispatch until `fd` is readable (or timeout).
    bool pump_until_readable(int fd, int timeout_ms)
    {
        int64_t end = now_ns() + int64_t(timeout_ms) * 1000000;
        while (now_ns() < end) {
            pollfd p[2] = {{host_->fd(), POLLIN, 0}, {fd, POLLIN, 0}};
            poll(p, 2, 5);
            if (p[0].revents)
                host_->dispatch();
            if (readable(fd, 0))
                return true;
        }
        return false;
    }
    void pump(int ms)
    {
        int64_t end = now_ns() + int64_t(ms) * 1000000;
        while (now_ns() < end) {
            pollfd p{host_->fd(), POLLIN, 0};
            if (poll(&p, 1, 2) > 0)
                host_->dispatch();
        }
    }
    // Receives an fd from a child while keeping the host's loop running.
    int receive_fd()
    {
        pump_until_readable(sv_[1], 5000);
        return recv_fd(sv_[1]);
    }
    pid_t spawn(const std::function<int()>& fn)
    {
        pid_t pid = fork();
        if (pid == 0)
            _exit(fn());
        children_.push_back(pid);
        return pid;
    }
    int child_status(pid_t pid)
    {
        int64_t end = now_ns() + 5000000000;
        while (now_ns() < end) {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                children_.erase(std::find(children_.begin(), children_.end(), pid));
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            pump(2);
        }
        return -1;
    }
    // A client that submits `point` on a new timeline, sends the timeline, signals the point
    // when told and closes its signaler, then stays alive until told again (so the host can
    // look first).
    pid_t spawn_signaling_client(uint64_t point)
    {
        return spawn([this, point] {
            syncobj_device* dev = open_dev();
            int tl, sig;
            CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
            CHILD_CHECK(syncobj_submit(dev, tl, point, &sig) == 0, 11);
            CHILD_CHECK(send_fd(sv_[0], tl), 12);
            char go;
            CHILD_CHECK(read(sv_[0], &go, 1) == 1, 13);
            CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 14);
            CHILD_CHECK(syncobj_fd_close(dev, sig) == 0, 16);
            CHILD_CHECK(read(sv_[0], &go, 1) == 1, 15);
            return 0;
        });
    }
    // In a child: opens a device, creates a timeline, sends it to the test and waits for its
    // go. 0, or the exit code naming the step that failed (10–12).
    int child_send_timeline_and_wait(syncobj_device*& dev, int& tl)
    {
        dev = open_dev();
        CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
        CHILD_CHECK(send_fd(sv_[0], tl), 11);
        char go;
        CHILD_CHECK(read(sv_[0], &go, 1) == 1, 12);
        return 0;
    }
    // Runs the host's loop with dispatch(act) until `act` returns true (or 5 s); false if it never did.
    bool dispatch_acting_until(const std::function<bool()>& act)
    {
        bool done = false;
        int64_t end = now_ns() + 5000000000;
        while (!done && now_ns() < end) {
            pollfd p{host_->fd(), POLLIN, 0};
            if (poll(&p, 1, 5) > 0)
                host_->dispatch([&] { done = act(); });
        }
        return done;
    }
    // The timeline a child sent, imported into the host (which keeps its own reference).
    syncway::Result<std::shared_ptr<HostedTimeline>> import_from_child()
    {
        int fd = receive_fd();
        if (fd < 0)
            return syncway::make_error(EIO, "no timeline came from the child");
        auto tl = host_->import_timeline(fd);
        close(fd);
        return tl;
    }
    static syncobj_device* open_dev()
    {
        syncobj_device* dev = nullptr;
        return syncobj_open(SYNCOBJ_BACKEND_AUTO, &dev) == 0 ? dev : nullptr;
    }

    std::unique_ptr<TimelineHost> host_;
    std::string dir_;
    int sv_[2] = {-1, -1};
    std::vector<pid_t> children_;
    int fds_before_ = 0;
};

} // namespace

TEST_F(Host, ImportRejectsWhatIsNotATimeline)
{
    auto expect_rejected = [&](int fd, int code, const char* word) {
        auto r = host_->import_timeline(fd);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, code);
        EXPECT_NE(r.error().message.find(word), std::string::npos) << r.error().message;
    };
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    expect_rejected(p[0], EINVAL, "pipe");
    close(p[0]);
    close(p[1]);
    int mfd = memfd_create("not-a-timeline", MFD_CLOEXEC);
    expect_rejected(mfd, EINVAL, "memfd");
    close(mfd);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    expect_rejected(null, EINVAL, "/dev/null");
    close(null);
    int efd = new_eventfd();
    expect_rejected(efd, EINVAL, "eventfd");
    close(efd);
    expect_rejected(1000, EBADF, "not an open file descriptor");
    int s[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
    expect_rejected(s[0], EINVAL, "not a live timeline of this service");
    close(s[1]);
    expect_rejected(s[0], EINVAL, "dead timeline");
    close(s[0]);
}

TEST_F(Host, WaitsForAClientSignalAndQueries)
{
    pid_t c = spawn_signaling_client(2);
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok()) << tl.error().message;
    EXPECT_EQ((*tl)->query(2).value().state, PointState::Pending);
    EXPECT_EQ((*tl)->query(3).value().state, PointState::Unsubmitted);
    EXPECT_EQ((*tl)->last_submitted().value(), 2u);
    auto w = (*tl)->wait(2);
    ASSERT_TRUE(w.ok());
    EXPECT_FALSE(readable(w->fd(), 0));
    EXPECT_FALSE(w->fired());
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    ASSERT_TRUE(pump_until_readable(w->fd(), 5000));
    EXPECT_TRUE(w->fired());
    EXPECT_EQ((*tl)->query(2).value().state, PointState::Signaled);
    EXPECT_EQ((*tl)->last_signaled().value(), 2u);
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    EXPECT_EQ(child_status(c), 0);
}

TEST_F(Host, DispatchActsBeforeTheSignalsCleanup)
{
    // dispatch(act): the compositor reacts to a resolved wait inside `act`, before the host
    // frees what the signal finished (here the signaler's service end, one fd: its pipe's read
    // end, which goes once the client's byte and the close of its write end have been read).
    pid_t c = spawn_signaling_client(1);
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok()) << tl.error().message;
    auto w = (*tl)->wait(1);
    ASSERT_TRUE(w.ok());
    pump(20); // nothing else left to handle
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    int fds_in_act = -1, acts = 0;
    bool fired_in_act = dispatch_acting_until([&] {
        acts++;
        fds_in_act = count_open_fds();
        return w->fired();
    });
    ASSERT_TRUE(fired_in_act) << "act never saw the signal (" << acts << " dispatches)";
    int64_t end = now_ns() + 5000000000;
    while (count_open_fds() != fds_in_act - 1 && now_ns() < end)
        pump(2);
    EXPECT_EQ(count_open_fds(), fds_in_act - 1) << "the signaler's end was not freed after act";
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    EXPECT_EQ(child_status(c), 0);
}

TEST_F(Host, DispatchWritesOnlyTheWaitsActLeavesAlive)
{
    // A wait `act` takes in-process and drops costs no eventfd write (B3); every other wait the
    // dispatch resolved, and one made inside `act` on a point already signaled, is written once
    // `act` returns, so waits nobody took in `act` still wake the loop.
    pid_t c = spawn_signaling_client(1);
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok()) << tl.error().message;
    auto taken = (*tl)->wait(1), left = (*tl)->wait(1);
    ASSERT_TRUE(taken.ok() && left.ok());
    std::optional<PointWait> taken_wait(std::move(taken.value()));
    // A copy of the taken wait's eventfd outlives it: a write to it would show there.
    int taken_copy = fcntl(taken_wait->fd(), F_DUPFD_CLOEXEC, 0);
    ASSERT_GE(taken_copy, 0);
    pump(20);
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    bool written_in_act = true;
    std::optional<PointWait> made_in_act;
    bool fired_in_act = dispatch_acting_until([&] {
        if (!taken_wait->fired())
            return false;
        written_in_act = readable(taken_copy, 0) || readable(left->fd(), 0);
        taken_wait.reset();
        if (auto w = (*tl)->wait(1); w.ok())
            made_in_act.emplace(std::move(w.value()));
        return true;
    });
    ASSERT_TRUE(fired_in_act) << "act never saw the signal";
    EXPECT_FALSE(written_in_act) << "eventfds written before act ran";
    EXPECT_TRUE(left->fired());
    EXPECT_TRUE(readable(left->fd(), 0)) << "a wait act did not take was never written";
    ASSERT_TRUE(made_in_act.has_value());
    EXPECT_TRUE(readable(made_in_act->fd(), 0)) << "a wait made inside act was never written";
    EXPECT_FALSE(readable(taken_copy, 0)) << "the wait act dropped was written anyway";
    close(taken_copy);
    // Outside dispatch(act), a resolved wait is written at once.
    auto later = (*tl)->wait(1);
    ASSERT_TRUE(later.ok());
    EXPECT_TRUE(readable(later->fd(), 0));
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    EXPECT_EQ(child_status(c), 0);
}

TEST_F(Host, DeadSignalerWakesTheWaitWithAnError)
{
    pid_t c = spawn([&] {
        syncobj_device* dev = open_dev();
        int tl, sig;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
        CHILD_CHECK(syncobj_submit(dev, tl, 1, &sig) == 0, 11);
        CHILD_CHECK(send_fd(sv_[0], tl), 12);
        char go;
        CHILD_CHECK(read(sv_[0], &go, 1) == 1, 13);
        _exit(0); // dies holding the unsignaled signaler
    });
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok()) << tl.error().message;
    auto w = (*tl)->wait(1);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    EXPECT_EQ(child_status(c), 0);
    ASSERT_TRUE(pump_until_readable(w->fd(), 5000));
    PointStatus st = (*tl)->query(1).value();
    EXPECT_EQ(st.state, PointState::Failed);
    EXPECT_EQ(st.error, EOWNERDEAD);
}

TEST_F(Host, WaitBeforeSubmitAndCpuReleaseSignal)
{
    // The client commits acquire 5 before submitting it, and waits for release 6 that the
    // host signals from the CPU.
    pid_t c = spawn([&] {
        syncobj_device* dev = nullptr;
        int tl = -1;
        if (int e = child_send_timeline_and_wait(dev, tl))
            return e;
        uint64_t p = 5;
        CHILD_CHECK(syncobj_signal(dev, &tl, &p, 1) == 0, 13);
        p = 6;
        int r = syncobj_wait(dev, &tl, &p, 1, now_ns() + 5000000000, SYNCOBJ_WAIT_FOR_SUBMIT, nullptr);
        CHILD_CHECK(r == 0, 14);
        return 0;
    });
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok());
    auto acquire = (*tl)->wait(5);
    ASSERT_TRUE(acquire.ok()) << "waiting for an unsubmitted point is allowed";
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    ASSERT_TRUE(pump_until_readable(acquire->fd(), 5000));
    EXPECT_TRUE((*tl)->signal(6).ok());
    EXPECT_EQ(child_status(c), 0);
}

TEST_F(Host, HostedTimelineDroppedAfterTheHostTouchesNothingFreed)
{
    // The rule is that HostedTimelines go before their host; a compositor whose clients' objects
    // are torn down after its protocol object must still not touch freed memory (ASan build).
    pid_t c = spawn([&] {
        syncobj_device* dev = nullptr;
        int tl = -1;
        if (int e = child_send_timeline_and_wait(dev, tl))
            return e;
        return 0;
    });
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok());
    std::shared_ptr<HostedTimeline> kept = std::move(tl.value());
    EXPECT_TRUE(kept->signal(3).ok());
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    EXPECT_EQ(child_status(c), 0);
    host_.reset();
    auto last = kept->last_signaled(); // the core timeline is still there
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(last.value(), 3u);
    kept.reset();
}

TEST_F(Host, DroppedWaitsNeverFireAndNothingLeaks)
{
    pid_t c = spawn([&] {
        syncobj_device* dev = nullptr;
        int tl = -1;
        if (int e = child_send_timeline_and_wait(dev, tl))
            return e;
        uint64_t p = 9;
        CHILD_CHECK(syncobj_signal(dev, &tl, &p, 1) == 0, 13);
        return 0;
    });
    auto tl = import_from_child();
    ASSERT_TRUE(tl.ok());
    auto w = (*tl)->wait(9);
    ASSERT_TRUE(w.ok());
    int efd = dup(w->fd());
    { PointWait gone = std::move(w.value()); } // the client went away: the host drops its wait
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    EXPECT_EQ(child_status(c), 0);
    pump(20);
    EXPECT_FALSE(readable(efd, 0)) << "a dropped wait fired";
    close(efd);
    tl.value().reset();
    pump(20);
}

TEST_F(Host, TimelineOfAnotherServiceIsRejected)
{
    EmbeddedService other;
    pid_t c = spawn([&] {
        // $SYNCWAY_SYNCOBJ_SOCKET names the other service now.
        syncobj_device* dev = nullptr;
        int tl = -1;
        return child_send_timeline_and_wait(dev, tl);
    });
    int64_t end = now_ns() + 5000000000;
    while (!readable(sv_[1], 0) && now_ns() < end)
        other.svc->dispatch(2);
    int fd = recv_fd(sv_[1]);
    ASSERT_GE(fd, 0);
    auto r = host_->import_timeline(fd);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message.find("not a live timeline of this service"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(kSocketEnv), std::string::npos) << r.error().message;
    close(fd);
    ASSERT_EQ(write(sv_[1], "g", 1), 1);
    end = now_ns() + 5000000000;
    int st = -1;
    while (now_ns() < end) {
        other.svc->dispatch(2);
        int s;
        if (waitpid(c, &s, WNOHANG) == c) {
            st = WEXITSTATUS(s);
            children_.clear();
            break;
        }
    }
    EXPECT_EQ(st, 0);
    setenv(kSocketEnv, host_->socket_path().c_str(), 1);
}

TEST_F(Host, KernelTimelinesAbsentHereAreReportedCleanly)
{
    if (!host_->kernel_device().empty())
        GTEST_SKIP() << "a DRM render node with syncobj eventfd exists: " << host_->kernel_device();
    // No /dev/dri here: the host works on userspace timelines only and says so when asked.
    EXPECT_TRUE(host_->kernel_device().empty());
}

TEST(HostCreate, NeedsASocketPath)
{
    // The library picks no path of its own (no environment read): the host gives one.
    std::string dir = make_temp_dir();
    setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
    auto h = TimelineHost::create({});
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().code, EINVAL);
    EXPECT_NE(h.error().message.find("HostOptions::socket_path"), std::string::npos) << h.error().message;
    EXPECT_EQ(rmdir(dir.c_str()), 0) << "the host made something in $XDG_RUNTIME_DIR";
    unsetenv("XDG_RUNTIME_DIR");
}

TEST(HostCreate, WithoutTheServiceNoSocketAndServiceTimelinesRefused)
{
    int fds_before = count_open_fds();
    HostOptions opt;
    opt.run_service = false;
    auto h = TimelineHost::create(opt);
    ASSERT_TRUE(h.ok()) << h.error().message;
    TimelineHost& host = *h.value();
    EXPECT_EQ(host.fd(), -1);
    EXPECT_TRUE(host.socket_path().empty());
    bool acted = false;
    host.dispatch([&] { acted = true; });
    EXPECT_TRUE(acted) << "dispatch(act) without a service must still run act";
    // What a service timeline is, seen from outside: a SOCK_SEQPACKET socket.
    int s[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
    auto r = host.import_timeline(s[0]);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message.find("kernel syncobj fds only"), std::string::npos) << r.error().message;
    close(s[0]);
    close(s[1]);
    h.value().reset();
    EXPECT_EQ(count_open_fds(), fds_before) << "fd leak";
}

TEST(HostCreate, RefusesToStealALiveServicesSocket)
{
    std::string dir = make_temp_dir();
    HostOptions opt;
    opt.socket_path = dir + "/s.sock";
    auto a = TimelineHost::create(opt);
    ASSERT_TRUE(a.ok());
    auto b = TimelineHost::create(opt);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code, EADDRINUSE);
    a.value().reset();
    auto c = TimelineHost::create(opt); // the path is free again
    EXPECT_TRUE(c.ok());
    c.value().reset();
    rmdir(dir.c_str());
}
