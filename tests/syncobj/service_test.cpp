// The service with several real processes over real sockets: capabilities passed between
// processes, lifetimes, dying signalers, bad input, limits, same-user only.
#include "embedded_service.hpp"
#include "raw_wire.hpp"

#include "service/handle_table.hpp"

#include <optional>
#include <set>

#include <syncobj_service_wire.h>

#include <sys/mman.h>
#include <sys/resource.h>

using namespace syncobj_test;
using syncway::syncobj::ServiceLimits;

namespace {

syncobj_device* open_dev()
{
    syncobj_device* dev = nullptr;
    return syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) == 0 ? dev : nullptr;
}

} // namespace

TEST(SyncobjService, TimelinePassesBetweenProcesses)
{
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    es.spawn([&] { // creator: creates, hands the fd over, signals point 5 later
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 10);
        int tl;
        CHILD_CHECK(syncobj_create(dev, 0, &tl) == 0, 11);
        CHILD_CHECK(send_fd(sv[0], tl), 12);
        usleep(20000);
        uint64_t p = 5;
        CHILD_CHECK(syncobj_signal(dev, &tl, &p, 1) == 0, 13);
        return 0;
    });
    es.spawn([&] { // waiter: receives the fd, waits for 5 through its own connection
        int tl = recv_fd(sv[1]);
        CHILD_CHECK(tl >= 0, 20);
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 21);
        uint64_t p = 5;
        int r = syncobj_wait(dev, &tl, &p, 1, now_ns() + 5000000000, SYNCOBJ_WAIT_FOR_SUBMIT, nullptr);
        CHILD_CHECK(r == 0, 22);
        uint64_t q = 0;
        CHILD_CHECK(syncobj_query(dev, &tl, &q, 1, 0) == 0 && q == 5, 23);
        return 0;
    });
    expect_children_ok(es.run());
    EXPECT_EQ(es.svc->timeline_count(), 0u) << "timeline outlived every holder";
    EXPECT_EQ(es.svc->connection_count(), 0u);
}

TEST(SyncobjService, SignalerThatDiesFailsThePoint)
{
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    es.spawn([&] { // submits point 1 and dies without signaling it
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 10);
        int tl, sig;
        CHILD_CHECK(syncobj_create(dev, 0, &tl) == 0, 11);
        CHILD_CHECK(syncobj_submit(dev, tl, 1, &sig) == 0, 12);
        CHILD_CHECK(send_fd(sv[0], tl), 13);
        char go;
        CHILD_CHECK(read(sv[0], &go, 1) == 1, 14); // the waiter is waiting
        _exit(0);                                  // the signaler dies with the process
    });
    es.spawn([&] {
        int tl = recv_fd(sv[1]);
        CHILD_CHECK(tl >= 0, 20);
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 21);
        int efd = new_eventfd();
        CHILD_CHECK(syncobj_eventfd(dev, tl, 1, efd, 0) == 0, 22);
        CHILD_CHECK(write(sv[1], "g", 1) == 1, 23);
        uint64_t p = 1;
        int r = syncobj_wait(dev, &tl, &p, 1, now_ns() + 5000000000, 0, nullptr);
        CHILD_CHECK(r == -EOWNERDEAD, 24); // woken, and not told "signaled"
        CHILD_CHECK(readable(efd, 1000), 25);
        enum syncobj_point_state state;
        int error = 0;
        CHILD_CHECK(syncobj_point_state(dev, tl, 1, &state, &error) == 0, 26);
        CHILD_CHECK(state == SYNCOBJ_POINT_FAILED && error == EOWNERDEAD, 27);
        return 0;
    });
    expect_children_ok(es.run());
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
}

TEST(SyncobjService, SignalerHandedToAnotherProcessStillSignals)
{
    // The submitter is whoever holds the signaler, not whoever holds the timeline.
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 10);
        int tl, sig;
        CHILD_CHECK(syncobj_create(dev, 0, &tl) == 0, 11);
        CHILD_CHECK(syncobj_submit(dev, tl, 3, &sig) == 0, 12);
        CHILD_CHECK(send_fd(sv[0], sig), 13);
        close(sig);
        uint64_t p = 3;
        int r = syncobj_wait(dev, &tl, &p, 1, now_ns() + 5000000000, 0, nullptr);
        CHILD_CHECK(r == 0, 14);
        return 0;
    });
    es.spawn([&] {
        int sig = recv_fd(sv[1]);
        CHILD_CHECK(sig >= 0, 20);
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 21);
        usleep(10000);
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 22);
        return 0;
    });
    expect_children_ok(es.run());
}

TEST(SyncobjService, SignalerMisuseAndAGoneServiceAreSafe)
{
    // A signaler is the write end of a pipe the service reads. The library writes into
    // nothing else (a timeline or a foreign pipe is refused before any byte is written), a
    // second signal is harmless, and a signal after the service went away neither fails the
    // caller nor kills it with SIGPIPE (the library keeps a read end of its own).
    std::optional<EmbeddedService> es(std::in_place);
    Channel ch;
    int* sv = ch.fd;
    pid_t child = es->spawn([&] {
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 10);
        int tl, sig, sig2;
        CHILD_CHECK(syncobj_create(dev, 0, &tl) == 0, 11);
        CHILD_CHECK(syncobj_submit(dev, tl, 1, &sig) == 0, 12);
        CHILD_CHECK(syncobj_submit(dev, tl, 2, &sig2) == 0, 13);
        CHILD_CHECK(syncobj_signaler_signal(dev, tl) == -EINVAL, 14);
        int foreign[2];
        CHILD_CHECK(pipe2(foreign, O_CLOEXEC) == 0, 15);
        CHILD_CHECK(syncobj_signaler_signal(dev, foreign[1]) == -EINVAL, 16);
        CHILD_CHECK(!readable(foreign[0], 0), 17); // nothing written into someone else's pipe
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 18);
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 19); // twice: the same as once
        uint64_t p = 1;
        CHILD_CHECK(syncobj_wait(dev, &tl, &p, 1, now_ns() + 5000000000, 0, nullptr) == 0, 20);
        CHILD_CHECK(write(sv[0], "k", 1) == 1, 21); // the parent stops the service
        char done;
        CHILD_CHECK(read(sv[0], &done, 1) == 1, 22);
        CHILD_CHECK(syncobj_signaler_signal(dev, sig2) == 0, 23); // alive: no SIGPIPE
        return 0;
    });
    int64_t end = now_ns() + 5000000000;
    while (!readable(sv[1], 0) && now_ns() < end)
        es->svc->dispatch(2);
    char k;
    ASSERT_EQ(read(sv[1], &k, 1), 1);
    es.reset(); // the service and its read ends are gone
    ASSERT_EQ(write(sv[1], "d", 1), 1);
    int st = 0;
    ASSERT_EQ(waitpid(child, &st, 0), child);
    ASSERT_TRUE(WIFEXITED(st)) << "killed by signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    EXPECT_EQ(WEXITSTATUS(st), 0) << "failed at step " << WEXITSTATUS(st);
}

TEST(SyncobjService, TimelineLivesExactlyAsLongAsAHolder)
{
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int tl;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
        CHILD_CHECK(send_fd(sv[0], tl), 11);
        return 0; // exits: its fd and connection go
    });
    expect_children_ok(es.run());
    int tl = recv_fd(sv[1]);
    ASSERT_GE(tl, 0);
    es.pump(20);
    EXPECT_EQ(es.svc->timeline_count(), 1u) << "the parent still holds the timeline";
    close(tl);
    es.pump(20);
    EXPECT_EQ(es.svc->timeline_count(), 0u);
}

TEST(SyncobjService, ExportedSyncFileImportsIntoAnotherTimeline)
{
    EmbeddedService es;
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int a, b, sig, sf;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &a) == 0 && syncobj_create(dev, 0, &b) == 0, 10);
        CHILD_CHECK(syncobj_submit(dev, a, 2, &sig) == 0, 11);
        CHILD_CHECK(syncobj_export_sync_file(dev, a, 2, &sf) == 0, 12);
        CHILD_CHECK(!readable(sf, 10), 13);
        CHILD_CHECK(syncobj_import_sync_file(dev, b, 7, sf) == 0, 14);
        uint64_t p = 7;
        CHILD_CHECK(syncobj_wait(dev, &b, &p, 1, 0, 0, nullptr) == -ETIME, 15);
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 16);
        CHILD_CHECK(readable(sf, 2000), 17);
        CHILD_CHECK(syncobj_wait(dev, &b, &p, 1, now_ns() + 2000000000, 0, nullptr) == 0, 18);
        // A signaled export imports as signaled; anything else is refused.
        int sf2;
        CHILD_CHECK(syncobj_export_sync_file(dev, a, 2, &sf2) == 0, 19);
        CHILD_CHECK(syncobj_import_sync_file(dev, b, 9, sf2) == 0, 20);
        p = 9;
        CHILD_CHECK(syncobj_wait(dev, &b, &p, 1, 0, 0, nullptr) == 0, 21);
        int pipefd[2];
        CHILD_CHECK(pipe(pipefd) == 0, 22);
        CHILD_CHECK(syncobj_import_sync_file(dev, b, 10, pipefd[0]) == -EINVAL, 23);
        CHILD_CHECK(syncobj_export_sync_file(dev, a, 50, &sf2) == -EINVAL, 24); // unsubmitted
        return 0;
    });
    auto st = es.run();
    EXPECT_EQ(st[0], 0);
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
}

TEST(SyncobjService, BadInputGetsErrnoAndHurtsNoOne)
{
    EmbeddedService es;
    int fds_before = count_open_fds();
    int s = raw_connect(es.path());
    ASSERT_GE(s, 0);
    es.pump(5);
    std::string text;
    uint8_t one = 1;
    EXPECT_EQ(raw_request(es, s, &one, 1), EINVAL) << "truncated header";
    syncobj_wire_header unknown{999, 0};
    EXPECT_EQ(raw_request(es, s, &unknown, sizeof unknown, {}, &text), EINVAL);
    EXPECT_NE(text.find("unknown request op 999"), std::string::npos) << text;
    syncobj_wire_header padded{SYNCOBJ_OP_HELLO, 7};
    EXPECT_EQ(raw_request(es, s, &padded, sizeof padded), EINVAL) << "bad pad";
    std::vector<uint8_t> huge(SYNCOBJ_WIRE_MAX_MESSAGE + 100, 0);
    huge[0] = SYNCOBJ_OP_HELLO;
    EXPECT_EQ(raw_request(es, s, huge.data(), huge.size()), EINVAL) << "oversized";
    syncobj_wire_create create_short{{SYNCOBJ_OP_CREATE, 0}, 0};
    EXPECT_EQ(raw_request(es, s, &create_short, sizeof create_short - 1), EINVAL) << "truncated body";
    syncobj_wire_create bad_flags{{SYNCOBJ_OP_CREATE, 0}, 0x80};
    EXPECT_EQ(raw_request(es, s, &bad_flags, sizeof bad_flags), EINVAL);
    syncobj_wire_array zero{{SYNCOBJ_OP_RESET, 0}, 0, 0, 0};
    EXPECT_EQ(raw_request(es, s, &zero, sizeof zero), EINVAL) << "count 0";
    syncobj_wire_array absurd{{SYNCOBJ_OP_QUERY, 0}, 0, 0xffffffffu, 0};
    EXPECT_EQ(raw_request(es, s, &absurd, sizeof absurd), EINVAL) << "absurd count";
    struct {
        syncobj_wire_array a;
        uint32_t h;
    } reset_pad{{{SYNCOBJ_OP_RESET, 0}, 0, 1, 5}, 1}; // IGT invalid-reset-bad-pad
    EXPECT_EQ(raw_request(es, s, &reset_pad, sizeof(syncobj_wire_array) + 4), EINVAL);
    reset_pad.a.hdr.op = SYNCOBJ_OP_QUERY; // IGT invalid-query-bad-pad
    EXPECT_EQ(raw_request(es, s, &reset_pad, sizeof(syncobj_wire_array) + 4), EINVAL);
    struct {
        syncobj_wire_array a;
        uint64_t p;
        uint32_t h;
    } signal_pad{{{SYNCOBJ_OP_SIGNAL, 0}, 0, 1, 9}, 1, 1}; // IGT invalid-signal-bad-pad
    EXPECT_EQ(raw_request(es, s, &signal_pad, sizeof(syncobj_wire_array) + 12), EINVAL);
    syncobj_wire_eventfd ev_pad{{SYNCOBJ_OP_EVENTFD, 0}, 1, 0, 0, 0xdeadbeef}; // eventfd invalid-bad-pad
    int efd = new_eventfd();
    EXPECT_EQ(raw_request(es, s, &ev_pad, sizeof ev_pad, {efd}), EINVAL);
    syncobj_wire_point unknown_handle{{SYNCOBJ_OP_POINT_STATE, 0}, 12345, 1};
    EXPECT_EQ(raw_request(es, s, &unknown_handle, sizeof unknown_handle), ENOENT);
    syncobj_wire_header import{SYNCOBJ_OP_IMPORT, 0};
    EXPECT_EQ(raw_request(es, s, &import, sizeof import), EBADF) << "import without an fd";
    EXPECT_EQ(raw_request(es, s, &import, sizeof import, {efd}, &text), EINVAL);
    EXPECT_NE(text.find("eventfd"), std::string::npos) << text;
    // An fd flood: fds on a request that takes none, and more fds than any request takes.
    syncobj_wire_header hello{SYNCOBJ_OP_HELLO, 0};
    EXPECT_EQ(raw_request(es, s, &hello, sizeof hello, {efd, efd, efd}), EINVAL);
    EXPECT_EQ(raw_request(es, s, &hello, sizeof hello, {efd, efd, efd, efd, efd, efd, efd, efd}), EINVAL);
    EXPECT_EQ(raw_request(es, s, &hello, sizeof hello), 0) << "the connection still works";
    close(efd);

    // A client that dies in the middle of a request.
    int d = raw_connect(es.path());
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    send(d, &create, sizeof create, 0);
    close(d);
    es.pump(10);
    close(s);
    es.pump(10);
    EXPECT_EQ(es.svc->connection_count(), 0u);
    EXPECT_EQ(es.svc->timeline_count(), 0u);
    EXPECT_EQ(count_open_fds(), fds_before) << "the service leaked fds";

    // Others are unaffected.
    es.spawn([] {
        syncobj_device* dev = open_dev();
        int tl;
        CHILD_CHECK(dev && syncobj_create(dev, SYNCOBJ_CREATE_SIGNALED, &tl) == 0, 10);
        uint64_t p = 0;
        CHILD_CHECK(syncobj_wait(dev, &tl, &p, 1, 0, 0, nullptr) == 0, 11);
        return 0;
    });
    EXPECT_EQ(es.run()[0], 0);
}

TEST(SyncobjService, SubmitTakesOnlyAPipesReadEnd)
{
    // SUBMIT on the raw wire: the signaler's pipe read end must come with it; anything else is
    // refused with the fd it got named, nothing is kept, and the connection goes on.
    EmbeddedService es;
    int fds_before = count_open_fds();
    int s = raw_connect(es.path());
    ASSERT_GE(s, 0);
    es.pump(5);
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    int tl = -1;
    syncobj_wire_reply created = raw_call(es, s, &create, sizeof create, &tl);
    ASSERT_EQ(created.error, 0);
    ASSERT_GE(tl, 0);
    syncobj_wire_point submit{{SYNCOBJ_OP_SUBMIT, 0}, created.aux, 1};
    std::string text;
    EXPECT_EQ(raw_request(es, s, &submit, sizeof submit, {}, &text), EBADF) << "no fd";
    int efd = new_eventfd();
    EXPECT_EQ(raw_request(es, s, &submit, sizeof submit, {efd}, &text), EINVAL);
    EXPECT_NE(text.find("eventfd"), std::string::npos) << text;
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    EXPECT_EQ(raw_request(es, s, &submit, sizeof submit, {p[1]}, &text), EINVAL);
    EXPECT_NE(text.find("pipe"), std::string::npos) << text;
    EXPECT_EQ(es.svc->pending_object_count(), 0u) << "a refused SUBMIT left a signaler";
    EXPECT_EQ(raw_request(es, s, &submit, sizeof submit, {p[0]}), 0);
    EXPECT_EQ(es.svc->pending_object_count(), 1u);
    close(p[0]);
    close(p[1]); // every write end closed without a byte: the point fails, the signaler goes
    es.pump(10);
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
    close(efd);
    close(tl);
    close(s);
    es.pump(10);
    EXPECT_EQ(count_open_fds(), fds_before) << "the service leaked fds";
}

// The service takes requests several at a time (recvmmsg); a burst longer than one batch,
// with fds on some requests, must be answered in order with each request's own fds.
TEST(SyncobjService, BurstOfRequestsAnsweredInOrderWithTheirFds)
{
    EmbeddedService es;
    int fds_before = count_open_fds();
    int s = raw_connect(es.path());
    ASSERT_GE(s, 0);
    es.pump(5);
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    ASSERT_EQ(send(s, &create, sizeof create, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof create));
    es.pump(5);
    syncway::syncobj::ReceiveBuffer<4096, 4> created;
    ASSERT_GT(recvmsg(s, &created.msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC), 0);
    auto timeline = syncway::syncobj::take_fds(created.msg);
    ASSERT_EQ(timeline.size(), 1u);
    // Requests i % 3 == 1 carry an fd: an IMPORT of the timeline (must succeed, so a receive
    // slot that last held a request without fds must have its room for fds back), and every
    // fourth of those a HELLO, which takes no fd (must fail, and the fd must not leak).
    constexpr int kBurst = 21; // more than two batches of 8
    auto expected = [](int i) { return i % 3 == 1 && i % 4 == 0 ? EINVAL : 0; };
    for (int i = 0; i < kBurst; i++) {
        syncobj_wire_header hdr{static_cast<uint16_t>(i % 3 == 1 && i % 4 != 0 ? SYNCOBJ_OP_IMPORT : SYNCOBJ_OP_HELLO), 0};
        iovec iov{&hdr, sizeof hdr};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        syncway::syncobj::OneFdControl control;
        if (i % 3 == 1)
            syncway::syncobj::attach_fd(msg, control, timeline[0].get());
        ASSERT_GE(sendmsg(s, &msg, MSG_NOSIGNAL), 0);
    }
    timeline.clear();
    es.pump(20);
    for (int i = 0; i < kBurst; i++) {
        syncobj_wire_reply r{};
        char buf[4096];
        ssize_t n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
        ASSERT_GE(n, static_cast<ssize_t>(sizeof r)) << "no reply to request " << i;
        std::memcpy(&r, buf, sizeof r);
        EXPECT_EQ(r.error, expected(i)) << "request " << i << ": " << (r.error ? buf + sizeof r : "");
    }
    char extra;
    EXPECT_LT(recv(s, &extra, 1, MSG_DONTWAIT), 0) << "more replies than requests";
    close(s);
    es.pump(5);
    EXPECT_EQ(count_open_fds(), fds_before);
}

TEST(SyncobjService, ClientThatNeverReadsIsDropped)
{
    EmbeddedService es;
    int s = raw_connect(es.path());
    int small = 4096;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    syncobj_wire_header hello{SYNCOBJ_OP_HELLO, 0};
    int sent = 0;
    for (int i = 0; i < 5000; i++) {
        if (send(s, &hello, sizeof hello, MSG_DONTWAIT) < 0)
            break;
        sent++;
        if (i % 50 == 0)
            es.pump(1);
    }
    es.pump(50);
    EXPECT_GT(sent, 0);
    EXPECT_EQ(es.svc->connection_count(), 0u) << "a client that does not read its replies is dropped";
    close(s);
}

TEST(SyncobjService, PerConnectionLimitsGiveClearErrors)
{
    ServiceLimits limits;
    limits.max_handles_per_connection = 8;
    limits.max_waits_per_connection = 4;
    EmbeddedService es(limits);
    es.spawn([] {
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 10);
        int tl[9];
        for (int i = 0; i < 8; i++)
            CHILD_CHECK(syncobj_create(dev, 0, &tl[i]) == 0, 11);
        CHILD_CHECK(syncobj_create(dev, 0, &tl[8]) == -ENOSPC, 12);
        CHILD_CHECK(std::string(syncobj_last_error()).find("limit 8") != std::string::npos, 13);
        for (int i = 0; i < 4; i++)
            CHILD_CHECK(syncobj_eventfd(dev, tl[0], 100, new_eventfd(), 0) == 0, 14);
        CHILD_CHECK(syncobj_eventfd(dev, tl[0], 100, new_eventfd(), 0) == -ENOSPC, 15);
        CHILD_CHECK(std::string(syncobj_last_error()).find("pending waits") != std::string::npos, 16);
        uint64_t p = 100; // firing them frees the budget
        CHILD_CHECK(syncobj_signal(dev, &tl[0], &p, 1) == 0, 17);
        CHILD_CHECK(syncobj_eventfd(dev, tl[0], 200, new_eventfd(), 0) == 0, 18);
        // Exported sync files hold a service fd each: they count as pending waits too.
        // A closed timeline's handle is swept when the limit is reached again.
        close(tl[7]);
        int sig;
        int64_t until = now_ns() + 2000000000;
        int sr;
        while ((sr = syncobj_submit(dev, tl[1], 1, &sig)) == -ENOSPC && now_ns() < until)
            usleep(1000); // until the service has seen the hang-up
        CHILD_CHECK(sr == 0, 19);
        int exported[3];
        for (int& e : exported)
            CHILD_CHECK(syncobj_export_sync_file(dev, tl[1], 1, &e) == 0, 20);
        int more;
        CHILD_CHECK(syncobj_export_sync_file(dev, tl[1], 1, &more) == -ENOSPC, 21);
        close(exported[0]); // the service sees the hang-up and frees the slot
        int64_t end = now_ns() + 2000000000;
        int r;
        while ((r = syncobj_export_sync_file(dev, tl[1], 1, &more)) == -ENOSPC && now_ns() < end)
            usleep(1000);
        CHILD_CHECK(r == 0, 22);
        return 0;
    });
    EXPECT_EQ(es.run()[0], 0);
}

TEST(SyncobjService, ConnectionLimit)
{
    ServiceLimits limits;
    limits.max_connections = 2;
    EmbeddedService es(limits);
    int a = raw_connect(es.path()), b = raw_connect(es.path()), c = raw_connect(es.path());
    es.pump(10);
    EXPECT_EQ(es.svc->connection_count(), 2u);
    syncobj_wire_header hello{SYNCOBJ_OP_HELLO, 0};
    EXPECT_EQ(raw_request(es, a, &hello, sizeof hello), 0);
    EXPECT_LT(raw_request(es, c, &hello, sizeof hello), 0) << "the third connection was closed";
    bool logged = false;
    for (auto& l : es.log)
        logged |= l.find("limit of 2 connections") != std::string::npos;
    EXPECT_TRUE(logged);
    close(a);
    close(b);
    close(c);
}

TEST(SyncobjService, OnlyTheSameUserMayConnect)
{
    if (getuid() != 0)
        GTEST_SKIP() << "needs root to become another user";
    EmbeddedService es;
    chmod(es.path().c_str(), 0666); // the file mode is not the only guard: SO_PEERCRED is
    chmod(es.path().substr(0, es.path().rfind('/')).c_str(), 0755);
    es.spawn([] {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            return 10;
        syncobj_device* dev = open_dev();
        CHILD_CHECK(dev, 11); // connect succeeds; the service hangs up at once
        int tl;
        CHILD_CHECK(syncobj_create(dev, 0, &tl) == -EPIPE, 12);
        return 0;
    });
    EXPECT_EQ(es.run()[0], 0);
    bool logged = false;
    for (auto& l : es.log)
        logged |= l.find("refused a connection from uid 65534") != std::string::npos;
    EXPECT_TRUE(logged);
}

TEST(SyncobjService, ManyClientsManyTimelinesNoLeak)
{
    EmbeddedService es;
    int fds_before = count_open_fds();
    for (int c = 0; c < 4; c++)
        es.spawn([] {
            syncobj_device* dev = open_dev();
            CHILD_CHECK(dev, 10);
            for (int i = 0; i < 200; i++) {
                int tl, sig;
                CHILD_CHECK(syncobj_create(dev, 0, &tl) == 0, 11);
                CHILD_CHECK(syncobj_submit(dev, tl, 1, &sig) == 0, 12);
                CHILD_CHECK(syncobj_eventfd(dev, tl, 1, new_eventfd(), 0) == 0, 13);
                if (i % 2)
                    CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 14);
                close(sig);
                close(tl);
            }
            return 0;
        });
    for (int st : es.run())
        EXPECT_EQ(st, 0);
    es.pump(20);
    EXPECT_EQ(es.svc->timeline_count(), 0u);
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
    EXPECT_EQ(count_open_fds(), fds_before);
}

namespace {

// A client that hands over (on sv[0]) a timeline signaled at 40, then waits for a byte.
void spawn_sender_of_timeline_at_40(EmbeddedService& es, int* sv)
{
    es.spawn([=] {
        syncobj_device* dev = open_dev();
        int other;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &other) == 0, 10);
        uint64_t p = 40;
        CHILD_CHECK(syncobj_signal(dev, &other, &p, 1) == 0, 11);
        CHILD_CHECK(send_fd(sv[0], other), 12);
        char go;
        CHILD_CHECK(read(sv[0], &go, 1) == 1, 13);
        return 0;
    });
}

// In the receiving child, after fd number `num` was closed while `keep` (a dup, at
// `keep_value`) keeps its timeline alive: the sender's timeline takes number `num`, and a query
// through `num` must reach it, not the old one. 0 or the failing step's code (30+).
int received_timeline_takes_the_number(syncobj_device* dev, int* sv, int num, int keep, uint64_t keep_value)
{
    int b = recv_fd(sv[1]);
    CHILD_CHECK(b >= 0, 30);
    if (b != num) {
        CHILD_CHECK(dup2(b, num) == num, 31);
        close(b);
    }
    uint64_t q = 0;
    CHILD_CHECK(syncobj_query(dev, &num, &q, 1, 0) == 0, 32);
    CHILD_CHECK(q == 40, 33); // the sender's value, not the old timeline's
    CHILD_CHECK(syncobj_query(dev, &keep, &q, 1, 0) == 0 && q == keep_value, 34);
    CHILD_CHECK(write(sv[1], "g", 1) == 1, 35);
    return 0;
}

} // namespace

TEST(SyncobjService, ReusedFdNumberNamesTheNewTimeline)
{
    // The library caches fd → service handle; a closed fd number reused for another timeline
    // (received from elsewhere, so the library never saw it created) must not act on the old one.
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    spawn_sender_of_timeline_at_40(es, sv);
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int a;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &a) == 0, 20);
        uint64_t p = 7;
        CHILD_CHECK(syncobj_signal(dev, &a, &p, 1) == 0, 21);
        int keep = dup(a); // timeline A stays alive under another number
        close(a);
        return received_timeline_takes_the_number(dev, sv, a, keep, 7);
    });
    expect_children_ok(es.run());
}

TEST(SyncobjService, CachedFdIdentityFollowsSyncobjFdClose)
{
    // SYNCOBJ_OPEN_CACHE_FD_IDENTITY: no per-use identity check, so the contract is that fds
    // are closed with syncobj_fd_close; a number closed that way and reused for another
    // timeline names the new one.
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    spawn_sender_of_timeline_at_40(es, sv);
    es.spawn([&] {
        syncobj_device* dev = nullptr;
        CHILD_CHECK(syncobj_open_flags(SYNCOBJ_BACKEND_SERVICE, 1u << 7, &dev) == -EINVAL && !dev, 19);
        CHILD_CHECK(syncobj_open_flags(SYNCOBJ_BACKEND_SERVICE, SYNCOBJ_OPEN_CACHE_FD_IDENTITY, &dev) == 0, 20);
        int a, sig;
        CHILD_CHECK(syncobj_create(dev, 0, &a) == 0, 21);
        uint64_t p = 7;
        CHILD_CHECK(syncobj_signal(dev, &a, &p, 1) == 0, 22);
        // A signaler used and closed through the library: no error, nothing left behind.
        CHILD_CHECK(syncobj_submit(dev, a, 8, &sig) == 0, 23);
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 24);
        CHILD_CHECK(syncobj_fd_close(dev, sig) == 0, 25);
        CHILD_CHECK(syncobj_wait(dev, &a, &p, 1, now_ns() + 5000000000, 0, nullptr) == 0, 26);
        int keep = dup(a); // timeline A stays alive under another number
        CHILD_CHECK(syncobj_fd_close(dev, a) == 0, 27);
        CHILD_CHECK(syncobj_fd_close(dev, a) == -EBADF, 28); // closed already
        int r = received_timeline_takes_the_number(dev, sv, a, keep, 8);
        syncobj_close(dev);
        return r;
    });
    expect_children_ok(es.run());
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
}

TEST(SyncobjService, WaitAllWaitsForEveryEntryWhenTheFirstIsSignaled)
{
    // Regression: WAIT_ALL used to complete as soon as the entries registered so far had
    // resolved, so a signaled first entry ended the wait before the rest were looked at.
    EmbeddedService es;
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int fds[3];
        CHILD_CHECK(dev, 10);
        for (int& fd : fds)
            CHILD_CHECK(syncobj_create(dev, 0, &fd) == 0, 11);
        uint64_t one = 1;
        CHILD_CHECK(syncobj_signal(dev, &fds[0], &one, 1) == 0, 12);
        CHILD_CHECK(syncobj_signal(dev, &fds[2], &one, 1) == 0, 13);
        uint64_t points[3] = {1, 1, 1};
        int r = syncobj_wait(dev, fds, points, 3, 0, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT, nullptr);
        CHILD_CHECK(r == -ETIME, 14);
        r = syncobj_wait(dev, fds, points, 3, now_ns() + 20000000, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT,
                         nullptr);
        CHILD_CHECK(r == -ETIME, 15);
        uint32_t first = 99;
        CHILD_CHECK(syncobj_wait(dev, fds, points, 3, 0, SYNCOBJ_WAIT_FOR_SUBMIT, &first) == 0 && first == 0, 16);
        CHILD_CHECK(syncobj_signal(dev, &fds[1], &one, 1) == 0, 17);
        CHILD_CHECK(syncobj_wait(dev, fds, points, 3, 0, SYNCOBJ_WAIT_ALL, nullptr) == 0, 18);
        return 0;
    });
    expect_children_ok(es.run());
}

namespace {

// A service in a child process with RLIMIT_NOFILE `nofile` and `limits`, dispatching for
// `ms`; reports how many dispatch rounds it ran and how many fds it had open at the end.
struct ServiceChild {
    std::string dir = make_temp_dir();
    std::string path = dir + "/s.sock";
    int report[2] = {-1, -1};
    pid_t pid = -1;
    ServiceChild(rlim_t nofile, ServiceLimits limits, int ms)
    {
        if (pipe2(report, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe2 failed");
        pid = fork();
        if (pid == 0) {
            rlimit rl{nofile, nofile};
            setrlimit(RLIMIT_NOFILE, &rl);
            syncway::syncobj::Service::Options opt;
            opt.limits = limits;
            auto svc = syncway::syncobj::Service::listen_at(path, std::move(opt));
            if (!svc)
                _exit(1);
            int result[2] = {0, 0};
            int64_t end = now_ns() + int64_t(ms) * 1000000;
            while (now_ns() < end) {
                (*svc)->dispatch(10);
                result[0]++;
            }
            // Counted without opening anything: the table may be full.
            for (rlim_t fd = 0; fd < nofile; fd++)
                result[1] += fcntl(static_cast<int>(fd), F_GETFD) != -1;
            ssize_t w = write(report[1], result, sizeof result);
            (void)w;
            _exit(0);
        }
        close(report[1]);
        while (!can_connect(path))
            usleep(2000);
        setenv("SYNCWAY_SYNCOBJ_SOCKET", path.c_str(), 1);
    }
    // {dispatch rounds, fds open at the end}
    std::pair<int, int> finish()
    {
        int result[2] = {-1, -1};
        ssize_t n = read(report[0], result, sizeof result);
        waitpid(pid, nullptr, 0);
        return n == sizeof result ? std::make_pair(result[0], result[1]) : std::make_pair(-1, -1);
    }
    ~ServiceChild()
    {
        close(report[0]);
        unlink(path.c_str());
        rmdir(dir.c_str());
    }
};

} // namespace

TEST(SyncobjService, OutOfFdsRefusesClearlyAndDoesNotSpin)
{
    // The service runs in a child with a tiny fd limit and a budget above it; a client
    // exhausts the process's fds.
    ServiceLimits limits;
    limits.max_fds = 1000000;
    ServiceChild child(48, limits, 1500);
    syncobj_device* dev = nullptr;
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev), 0) << syncobj_last_error();
    std::vector<int> tls;
    int r = 0;
    for (int i = 0; i < 100; i++) {
        int tl;
        r = syncobj_create(dev, 0, &tl);
        if (r != 0)
            break;
        tls.push_back(tl);
    }
    EXPECT_EQ(r, -EMFILE);
    EXPECT_NE(std::string(syncobj_last_error()).find("socket pair"), std::string::npos) << syncobj_last_error();
    // A request whose fd the service cannot receive: the kernel drops it (MSG_CTRUNC), which
    // is told apart from a request with too many fds.
    std::vector<int> efds;
    for (int i = 0; i < 4; i++) {
        int efd = new_eventfd();
        efds.push_back(efd);
        r = syncobj_eventfd(dev, tls[0], 100, efd, 0);
        if (r != 0)
            break;
    }
    EXPECT_EQ(r, -EMFILE) << syncobj_last_error();
    std::string text = syncobj_last_error();
    EXPECT_NE(text.find("out of file descriptors"), std::string::npos) << text;
    EXPECT_NE(text.find("EMFILE"), std::string::npos) << text;
    EXPECT_EQ(text.find("more than"), std::string::npos) << text;
    std::vector<int> extra;
    for (int i = 0; i < 5; i++)
        extra.push_back(raw_connect(child.path));
    auto [iterations, open_fds] = child.finish();
    EXPECT_GT(iterations, 0) << "the service process did not report";
    EXPECT_LT(iterations, 1000) << "the service spun on a listener it could not accept from";
    EXPECT_EQ(open_fds, 48) << "the client filled the service's fd table";
    for (int fd : tls)
        close(fd);
    for (int fd : extra)
        close(fd);
    for (int fd : efds)
        close(fd);
    syncobj_close(dev);
}

TEST(SyncobjService, FdBudgetKeepsTheServiceClearOfItsFdLimit)
{
    // Default limits: the service's fd budget is half its soft RLIMIT_NOFILE (64 here), so a
    // client that takes all it can gets ENFILE naming the budget while the process keeps
    // fds to spare; a timeline given back is usable again.
    ServiceChild child(64, ServiceLimits{}, 1500);
    syncobj_device* dev = nullptr;
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev), 0) << syncobj_last_error();
    std::vector<int> tls;
    int r = 0;
    for (int i = 0; i < 100; i++) {
        int tl;
        r = syncobj_create(dev, 0, &tl);
        if (r != 0)
            break;
        tls.push_back(tl);
    }
    EXPECT_EQ(r, -ENFILE);
    std::string text = syncobj_last_error();
    EXPECT_NE(text.find("max_fds = 32"), std::string::npos) << text;
    EXPECT_EQ(tls.size(), 31u) << "a budget of 32 fds: this connection's socket and 31 timelines";
    // One timeline given back: its slot is free again once the service saw it go.
    close(tls.back());
    tls.pop_back();
    int tl = -1;
    int64_t until = now_ns() + 2000000000;
    while ((r = syncobj_create(dev, 0, &tl)) == -ENFILE && now_ns() < until)
        usleep(1000);
    EXPECT_EQ(r, 0) << syncobj_last_error();
    tls.push_back(tl);
    for (int fd : tls)
        close(fd);
    syncobj_close(dev);
    auto [iterations, open_fds] = child.finish();
    EXPECT_GT(iterations, 0);
    EXPECT_LT(open_fds, 32) << "the service's fds are back to its own few";
}

TEST(SyncobjService, AbandonedExportIsFreedBeforeItsPointResolves)
{
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int tl, sig, sf;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
        CHILD_CHECK(syncobj_submit(dev, tl, 1, &sig) == 0, 11);
        CHILD_CHECK(syncobj_export_sync_file(dev, tl, 1, &sf) == 0, 12);
        CHILD_CHECK(write(sv[0], "e", 1) == 1, 13);
        char go;
        CHILD_CHECK(read(sv[0], &go, 1) == 1, 14); // parent looked: export pending
        close(sf);
        CHILD_CHECK(read(sv[0], &go, 1) == 1, 15); // parent looked again
        return 0;
    });
    auto wait_byte = [&] {
        int64_t end = now_ns() + 5000000000;
        while (!readable(sv[1], 0) && now_ns() < end)
            es.svc->dispatch(2);
        char c;
        return read(sv[1], &c, 1) == 1;
    };
    ASSERT_TRUE(wait_byte());
    es.pump(10);
    size_t with_export = es.svc->pending_object_count(); // signaler + export
    EXPECT_EQ(with_export, 2u);
    ASSERT_EQ(write(sv[1], "g", 1), 1);
    int64_t end = now_ns() + 5000000000;
    while (es.svc->pending_object_count() != 1 && now_ns() < end)
        es.svc->dispatch(2);
    EXPECT_EQ(es.svc->pending_object_count(), 1u) << "the abandoned export still holds a service fd";
    ASSERT_EQ(write(sv[1], "g", 1), 1);
    expect_children_ok(es.run());
}

TEST(SyncobjService, ClosedHandleDoesNotNameTheObjectThatReusesItsSlot)
{
    // Handles index a flat table whose slots are reused; a handle carries its slot's
    // generation, so one closed by the client names nothing, not the next object.
    EmbeddedService es;
    int s = raw_connect(es.path());
    ASSERT_GE(s, 0);
    es.pump(5);
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    int fd_a, fd_b;
    syncobj_wire_reply a = raw_call(es, s, &create, sizeof create, &fd_a);
    ASSERT_EQ(a.error, 0);
    ASSERT_GE(fd_a, 0);
    syncobj_wire_handle close_a{{SYNCOBJ_OP_CLOSE_HANDLE, 0}, a.aux};
    ASSERT_EQ(send(s, &close_a, sizeof close_a, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof close_a));
    syncobj_wire_reply b = raw_call(es, s, &create, sizeof create, &fd_b);
    ASSERT_EQ(b.error, 0);
    ASSERT_GE(fd_b, 0);
    EXPECT_NE(b.aux, a.aux);
    EXPECT_EQ(b.aux & 0xfffffu, a.aux & 0xfffffu) << "expected the freed slot to be reused";
    syncobj_wire_point state_a{{SYNCOBJ_OP_POINT_STATE, 0}, a.aux, 0};
    EXPECT_EQ(raw_call(es, s, &state_a, sizeof state_a).error, ENOENT) << "a closed handle still names something";
    syncobj_wire_point state_b{{SYNCOBJ_OP_POINT_STATE, 0}, b.aux, 0};
    EXPECT_EQ(raw_call(es, s, &state_b, sizeof state_b).error, 0);
    // The same through an array request (the batch path).
    struct {
        syncobj_wire_array a;
        uint64_t p;
        uint32_t h;
    } signal{{{SYNCOBJ_OP_SIGNAL, 0}, 0, 1, 0}, 4, a.aux};
    EXPECT_EQ(raw_call(es, s, &signal, sizeof(syncobj_wire_array) + 12).error, ENOENT);
    signal.h = b.aux;
    EXPECT_EQ(raw_call(es, s, &signal, sizeof(syncobj_wire_array) + 12).error, 0);
    syncobj_wire_point state4{{SYNCOBJ_OP_POINT_STATE, 0}, b.aux, 4};
    EXPECT_EQ(raw_call(es, s, &state4, sizeof state4).aux, static_cast<uint32_t>(SYNCOBJ_POINT_SIGNALED));
    close(fd_a);
    close(fd_b);
    close(s);
    es.pump(10);
    EXPECT_EQ(es.svc->timeline_count(), 0u);
}

TEST(SyncobjHandleTable, NoHandleIsEverIssuedTwice)
{
    // One slot closed and reused over and over: each handle differs from every earlier one,
    // and once the generations are spent the slot is retired, not wrapped.
    using Table = syncway::syncobj::HandleTable<int*, int>;
    Table t;
    int x = 0;
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i <= Table::kLastGeneration + 10; i++) {
        uint32_t h = t.insert(&x, 0);
        ASSERT_NE(h, 0u);
        EXPECT_TRUE(seen.insert(h).second) << "handle " << h << " issued twice, round " << i;
        ASSERT_TRUE(t.find(h));
        ASSERT_TRUE(t.erase(h));
        EXPECT_FALSE(t.find(h)) << "a closed handle still names something";
    }
    EXPECT_EQ(t.size(), 0u);
    uint32_t h = t.insert(&x, 7);
    EXPECT_EQ(t.cold(h), 7);
    EXPECT_NE(h & Table::kIndexMask, 1u) << "the spent first slot came back";
}
