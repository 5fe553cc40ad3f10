// Clients that try to hurt the service or each other: fds passed where a sync file belongs,
// files made to look like another client's timeline or signaler, and clients that take more
// than their share (connections, fds, pending points). Each gets an errno naming what it did
// or the limit it hit, and leaves nothing behind.
#include "raw_wire.hpp"

#include "service/object_registry.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

using namespace syncobj_test;
using syncway::syncobj::ServiceLimits;

namespace {

syncobj_device* open_dev()
{
    syncobj_device* dev = nullptr;
    return syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) == 0 ? dev : nullptr;
}

bool last_error_has(const char* what) { return std::string(syncobj_last_error()).find(what) != std::string::npos; }

// A request from a child process: blocks for the reply (the parent pumps the service).
syncobj_wire_reply child_call(int sock, const void* data, size_t len, int send_fd = -1, int* got_fd = nullptr,
                              std::string* text = nullptr)
{
    syncobj_wire_reply r{};
    r.error = -1;
    iovec iov{const_cast<void*>(data), len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    syncway::syncobj::OneFdControl control;
    if (send_fd >= 0)
        syncway::syncobj::attach_fd(msg, control, send_fd);
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        return r;
    char buf[4096];
    iovec riov{buf, sizeof buf};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    msghdr rmsg{};
    rmsg.msg_iov = &riov;
    rmsg.msg_iovlen = 1;
    rmsg.msg_control = cbuf;
    rmsg.msg_controllen = sizeof cbuf;
    ssize_t n = recvmsg(sock, &rmsg, MSG_CMSG_CLOEXEC);
    if (n < static_cast<ssize_t>(sizeof r))
        return r;
    std::memcpy(&r, buf, sizeof r);
    if (text && r.error)
        *text = std::string(buf + sizeof r);
    auto fds = syncway::syncobj::take_fds(rmsg);
    if (got_fd)
        *got_fd = fds.empty() ? -1 : fds[0].release();
    return r;
}

// Pumps the service until `fd` is readable, then reads one byte from it.
bool wait_byte(EmbeddedService& es, int fd)
{
    int64_t end = now_ns() + 5000000000;
    while (!readable(fd, 0) && now_ns() < end)
        es.svc->dispatch(2);
    if (!readable(fd, 0))
        return false; // never block: this process holds the other end too
    char c;
    return read(fd, &c, 1) == 1;
}

ino_t inode_of(int fd)
{
    struct stat st {};
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

} // namespace

// ---- sync files ----------------------------------------------------------------------------

TEST(SyncobjHostile, ImportSyncFileTakesOnlySyncFiles)
{
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    std::string dir = make_temp_dir();
    int fds_at_start = count_open_fds();
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int a, b;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &a) == 0 && syncobj_create(dev, 0, &b) == 0, 10);
        CHILD_CHECK(write(sv[0], "c", 1) == 1, 11);
        char go;
        CHILD_CHECK(read(sv[0], &go, 1) == 1, 12);
        // Another timeline where a sync file belongs: refused every time, nothing kept. (All
        // 200 are tried before this child says so, so that the parent counts the service's
        // fds after all of them either way.)
        int taken = 0, misnamed = 0;
        for (int i = 0; i < 200; i++) {
            taken += syncobj_import_sync_file(dev, a, 1 + i, b) != -EINVAL;
            misnamed += !last_error_has("a timeline of this service is not a sync file");
        }
        auto refused = [&](int fd, const char* named) {
            return syncobj_import_sync_file(dev, a, 1000, fd) == -EINVAL && last_error_has(named) &&
                   last_error_has("is not a sync file");
        };
        int p[2];
        CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0, 15);
        CHILD_CHECK(refused(p[0], "the read end of a pipe"), 16);
        CHILD_CHECK(refused(p[1], "the write end of a pipe"), 17);
        std::string fifo = dir + "/fifo";
        CHILD_CHECK(mkfifo(fifo.c_str(), 0600) == 0, 18);
        int f = open(fifo.c_str(), O_RDWR | O_CLOEXEC);
        CHILD_CHECK(f >= 0 && refused(f, "a named FIFO"), 19);
        // A socket pair of our own with a well-formed status message in it: not the
        // service's export, so not a sync file (it would claim any outcome it likes).
        int sp[2];
        CHILD_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0, 20);
        syncobj_wire_sync_status forged{SYNCOBJ_WIRE_SYNC_MAGIC, 0};
        CHILD_CHECK(send(sp[1], &forged, sizeof forged, 0) == sizeof forged, 21);
        CHILD_CHECK(refused(sp[0], "a socket that is not a live timeline of this service"), 22);
        int stream[2];
        CHILD_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream) == 0, 23);
        CHILD_CHECK(refused(stream[0], "socket"), 24);
        CHILD_CHECK(refused(new_eventfd(), "an eventfd"), 25);
        std::string file = dir + "/file";
        int reg = open(file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        CHILD_CHECK(reg >= 0 && refused(reg, file.c_str()), 26);
        int mfd = memfd_create("not-a-sync-file", MFD_CLOEXEC);
        CHILD_CHECK(refused(mfd, "a memfd"), 27);
        // Nothing of those reached the timeline.
        uint64_t submitted = 0;
        CHILD_CHECK(syncobj_query(dev, &a, &submitted, 1, SYNCOBJ_QUERY_LAST_SUBMITTED) == 0 &&
                        (submitted == 0 || taken),
                    28);
        // The real thing still imports: a pending export of this service.
        int sig, sf, c;
        CHILD_CHECK(syncobj_submit(dev, b, 1, &sig) == 0 && syncobj_export_sync_file(dev, b, 1, &sf) == 0, 29);
        CHILD_CHECK(syncobj_create(dev, 0, &c) == 0 && syncobj_import_sync_file(dev, c, 5, sf) == 0, 30);
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 31);
        uint64_t five = 5;
        CHILD_CHECK(syncobj_wait(dev, &c, &five, 1, now_ns() + 2000000000, 0, nullptr) == 0, 32);
        close(c);
        CHILD_CHECK(write(sv[0], "d", 1) == 1, 33);
        CHILD_CHECK(read(sv[0], &go, 1) == 1, 34);
        CHILD_CHECK(taken == 0, 13);
        CHILD_CHECK(misnamed == 0, 14);
        unlink(fifo.c_str());
        unlink(file.c_str());
        return 0;
    });
    ASSERT_TRUE(wait_byte(es, sv[1]));
    es.pump(10);
    int fds_with_two_timelines = count_open_fds();
    ASSERT_EQ(write(sv[1], "g", 1), 1);
    if (!wait_byte(es, sv[1])) {
        expect_children_ok(es.run());
        FAIL() << "the child stopped early";
    }
    es.pump(10);
    // The two timelines, the signaler's pipe (signaled, kept until its writer closes): no more.
    EXPECT_LE(count_open_fds(), fds_with_two_timelines + 1) << "the refused imports left fds in the service";
    ASSERT_EQ(write(sv[1], "g", 1), 1);
    expect_children_ok(es.run());
    es.pump(20);
    EXPECT_EQ(es.svc->timeline_count(), 0u);
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
    EXPECT_EQ(es.svc->fds_held(), 0u);
    EXPECT_EQ(count_open_fds(), fds_at_start);
    rmdir(dir.c_str());
}

// ---- identity ------------------------------------------------------------------------------

TEST(SyncobjHostile, RegistryMatchesOnlyTheVeryFile)
{
    using syncway::syncobj::FdInfo;
    using syncway::syncobj::FdKind;
    using syncway::syncobj::FileId;
    using syncway::syncobj::ObjectRegistry;
    const dev_t pipefs = syncway::syncobj::pipe_filesystem();
    ASSERT_NE(pipefs, 0u);
    const dev_t sockfs = 9, tmpfs = pipefs + 100;
    ObjectRegistry reg(pipefs);
    ASSERT_TRUE(reg.add(FileId{pipefs, 100}, {ObjectRegistry::Kind::Signaler, 1, 0}));
    ASSERT_TRUE(reg.add(FileId{sockfs, 200}, {ObjectRegistry::Kind::Timeline, 2, 77}));
    EXPECT_FALSE(reg.add(FileId{pipefs, 100}, {ObjectRegistry::Kind::Signaler, 3, 0})) << "one file, one object";
    auto info = [](FdKind kind, dev_t dev, ino_t ino) {
        FdInfo i;
        i.kind = kind;
        i.id = FileId{dev, ino};
        return i;
    };
    // The signaler: its own pipe's write end only.
    ASSERT_NE(reg.match(info(FdKind::PipeWriteEnd, pipefs, 100), 0), nullptr);
    EXPECT_EQ(reg.match(info(FdKind::PipeWriteEnd, pipefs, 100), 0)->id, 1u);
    EXPECT_EQ(reg.match(info(FdKind::NamedFifo, tmpfs, 100), 0), nullptr) << "a FIFO with the same inode number";
    EXPECT_EQ(reg.match(info(FdKind::PipeWriteEnd, tmpfs, 100), 0), nullptr) << "same number, another device";
    EXPECT_EQ(reg.match(info(FdKind::NamedFifo, pipefs, 100), 0), nullptr) << "forged device, but a FIFO";
    EXPECT_EQ(reg.match(info(FdKind::PipeReadEnd, pipefs, 100), 0), nullptr) << "the read end signals nothing";
    // The timeline: its own socket, cookie included.
    ASSERT_NE(reg.match(info(FdKind::SeqpacketSocket, sockfs, 200), 77), nullptr);
    EXPECT_EQ(reg.match(info(FdKind::SeqpacketSocket, sockfs, 200), 78), nullptr) << "another socket, same inode";
    EXPECT_EQ(reg.match(info(FdKind::SeqpacketSocket, sockfs, 200), 0), nullptr);
    EXPECT_EQ(reg.match(info(FdKind::SeqpacketSocket, tmpfs, 200), 77), nullptr);
    EXPECT_EQ(reg.match(info(FdKind::NamedFifo, tmpfs, 200), 0), nullptr);
    EXPECT_EQ(reg.match(info(FdKind::PipeWriteEnd, sockfs, 200), 0), nullptr);
    reg.remove(FileId{sockfs, 200}, 99); // another object's id: stays
    EXPECT_NE(reg.match(info(FdKind::SeqpacketSocket, sockfs, 200), 77), nullptr);
    reg.remove(FileId{sockfs, 200}, 2);
    EXPECT_EQ(reg.match(info(FdKind::SeqpacketSocket, sockfs, 200), 77), nullptr);

    // inspect_fd tells a named FIFO from a pipe, by device and by its /proc link.
    std::string dir = make_temp_dir();
    std::string fifo = dir + "/f";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    int f = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(f, 0);
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    EXPECT_EQ(syncway::syncobj::inspect_fd(f, pipefs).kind, FdKind::NamedFifo);
    EXPECT_EQ(syncway::syncobj::inspect_fd(f).kind, FdKind::NamedFifo);
    EXPECT_EQ(syncway::syncobj::inspect_fd(p[0], pipefs).kind, FdKind::PipeReadEnd);
    EXPECT_EQ(syncway::syncobj::inspect_fd(p[1]).kind, FdKind::PipeWriteEnd);
    close(f);
    close(p[0]);
    close(p[1]);
    unlink(fifo.c_str());
    rmdir(dir.c_str());
}

TEST(SyncobjHostile, NamedFifoIsNeitherSignalerNorTimeline)
{
    EmbeddedService es;
    int fds_at_start = count_open_fds();
    int s = raw_connect(es.path());
    ASSERT_GE(s, 0);
    es.pump(5);
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    int tl = -1;
    syncobj_wire_reply r = raw_call(es, s, &create, sizeof create, &tl);
    ASSERT_EQ(r.error, 0);
    std::string dir = make_temp_dir();
    std::string fifo = dir + "/f";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    int rd = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int wr = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(rd, 0);
    ASSERT_GE(wr, 0);
    std::string text;
    syncobj_wire_point submit{{SYNCOBJ_OP_SUBMIT, 0}, r.aux, 1};
    EXPECT_EQ(raw_request(es, s, &submit, sizeof submit, {rd}, &text), EINVAL);
    EXPECT_NE(text.find("a named FIFO (\"" + fifo + "\")"), std::string::npos) << text;
    syncobj_wire_header import{SYNCOBJ_OP_IMPORT, 0};
    EXPECT_EQ(raw_request(es, s, &import, sizeof import, {wr}, &text), EINVAL);
    EXPECT_NE(text.find("a named FIFO"), std::string::npos) << text;
    EXPECT_EQ(es.svc->pending_object_count(), 0u);
    close(rd);
    close(wr);
    close(tl);
    close(s);
    unlink(fifo.c_str());
    rmdir(dir.c_str());
    es.pump(10);
    EXPECT_EQ(count_open_fds(), fds_at_start);
}

namespace {

// In the calling process (a child): a private mount namespace with a fresh tmpfs on `dir`, in
// which FIFOs are made numbered like `inos` where that can be done within `budget`. A fresh
// tmpfs numbers its inodes from 2 up, one per inode made (unnamed ones included), while a pipe's
// or socket's number comes from a machine-wide counter (millions on a machine that has run for
// a while): the number is reached by making unnamed files (an open and a close each) up to a
// few short of it, then FIFOs. Past the budget the FIFOs are plain ones and *collided is false:
// the service must refuse them all the same (it refuses every named FIFO). Returns their paths
// (in the order asked), or nothing if this process may not mount (no CAP_SYS_ADMIN).
std::vector<std::string> fifos_with_inodes(const std::string& dir, std::vector<ino_t> inos, bool* collided,
                                           std::chrono::seconds budget = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + budget;
    *collided = true;
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", dir.c_str(), "tmpfs", 0, "mode=0700") != 0)
        return {};
    std::vector<ino_t> order = inos;
    std::sort(order.begin(), order.end());
    std::vector<std::string> paths(inos.size());
    auto plain = [&] {
        *collided = false;
        for (size_t i = 0; i < inos.size(); i++) {
            paths[i] = dir + "/plain" + std::to_string(i);
            if (mkfifo(paths[i].c_str(), 0600) != 0)
                return std::vector<std::string>{};
        }
        return paths;
    };
    size_t next = 0, made = 0;
    std::string scratch = dir + "/scratch";
    while (next < order.size()) {
        if (std::chrono::steady_clock::now() > deadline)
            return plain();
        if (mkfifo(scratch.c_str(), 0600) != 0)
            return {};
        struct stat st {};
        stat(scratch.c_str(), &st);
        if (st.st_ino > order[next])
            return plain();
        if (st.st_ino == order[next]) {
            std::string kept = dir + "/fifo" + std::to_string(made++);
            rename(scratch.c_str(), kept.c_str());
            for (size_t i = 0; i < inos.size(); i++)
                if (inos[i] == order[next])
                    paths[i] = kept;
            next++;
            continue;
        }
        unlink(scratch.c_str());
        for (ino_t left = order[next] - st.st_ino; left > 4; left--) {
            if (left % 4096 == 0 && std::chrono::steady_clock::now() > deadline)
                return plain();
            int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0)
                return {};
            close(fd);
        }
    }
    return paths;
}

} // namespace

TEST(SyncobjHostile, FifoWithAVictimsInodeNumberCannotActOnIt)
{
    // The attack as a same-user client can run it: a FIFO on its own tmpfs, numbered like the
    // victim's signaler pipe, imported as a signaler and signaled; a FIFO numbered like the
    // victim's timeline, submitted as a signaler so that it takes the timeline's entry.
    EmbeddedService es;
    int s = raw_connect(es.path());
    ASSERT_GE(s, 0);
    es.pump(5);
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    int victim_tl = -1;
    syncobj_wire_reply created = raw_call(es, s, &create, sizeof create, &victim_tl);
    ASSERT_EQ(created.error, 0);
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    syncobj_wire_point submit{{SYNCOBJ_OP_SUBMIT, 0}, created.aux, 1};
    ASSERT_EQ(raw_request(es, s, &submit, sizeof submit, {p[0]}), 0);
    close(p[0]);
    const ino_t signaler_ino = inode_of(p[1]), timeline_ino = inode_of(victim_tl);
    std::string dir = make_temp_dir();
    std::string path = es.path();

    es.spawn([&] {
        bool collided = false;
        auto fifos = fifos_with_inodes(dir, {signaler_ino, timeline_ino}, &collided);
        if (fifos.empty())
            return 2; // cannot set the attack up here
        int sock = raw_connect(path);
        CHILD_CHECK(sock >= 0, 10);
        // 1. The victim's signaler, forged.
        int rd = open(fifos[0].c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int wr = open(fifos[0].c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        CHILD_CHECK(rd >= 0 && wr >= 0 && (!collided || inode_of(wr) == signaler_ino), 11);
        syncobj_wire_header import{SYNCOBJ_OP_IMPORT, 0};
        std::string text;
        syncobj_wire_reply r = child_call(sock, &import, sizeof import, wr, nullptr, &text);
        if (r.error == 0) {
            syncobj_wire_handle sig{{SYNCOBJ_OP_SIGNALER_SIGNAL, 0}, r.aux};
            send(sock, &sig, sizeof sig, MSG_NOSIGNAL);
            syncobj_wire_header hello{SYNCOBJ_OP_HELLO, 0};
            child_call(sock, &hello, sizeof hello); // the signal is handled before this reply
            return 20;
        }
        CHILD_CHECK(r.error == EINVAL && text.find("a named FIFO") != std::string::npos, 12);
        // 2. The victim's timeline's entry, taken over by a "signaler" with its number.
        int own = -1;
        syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
        r = child_call(sock, &create, sizeof create, -1, &own);
        CHILD_CHECK(r.error == 0 && own >= 0, 13);
        int rd2 = open(fifos[1].c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        CHILD_CHECK(rd2 >= 0 && (!collided || inode_of(rd2) == timeline_ino), 14);
        syncobj_wire_point submit{{SYNCOBJ_OP_SUBMIT, 0}, r.aux, 1};
        r = child_call(sock, &submit, sizeof submit, rd2, nullptr, &text);
        if (r.error == 0)
            return 21;
        CHILD_CHECK(r.error == EINVAL && text.find("a named FIFO") != std::string::npos, 15);
        return collided ? 0 : 3;
    });
    auto status = es.run(30000);
    rmdir(dir.c_str());
    if (status[0] == 2) {
        close(p[1]);
        close(victim_tl);
        close(s);
        GTEST_SKIP() << "cannot mount a tmpfs in a private mount namespace here (needs CAP_SYS_ADMIN); "
                        "RegistryMatchesOnlyTheVeryFile and NamedFifoIsNeitherSignalerNorTimeline cover the decision";
    }
    EXPECT_NE(status[0], 20) << "a FIFO numbered like the victim's signaler signaled the victim's point";
    EXPECT_NE(status[0], 21) << "a FIFO numbered like the victim's timeline was taken as a signaler";
    if (status[0] == 3) {
        std::printf("note: this machine's pipe inode numbers (%llu, %llu) were out of reach of a fresh tmpfs "
                    "within the time budget; plain named FIFOs were refused instead\n",
                    static_cast<unsigned long long>(signaler_ino), static_cast<unsigned long long>(timeline_ino));
        status[0] = 0;
    }
    EXPECT_EQ(status[0], 0);
    // The victim's point is still pending, its timeline still its own.
    syncobj_wire_point state{{SYNCOBJ_OP_POINT_STATE, 0}, created.aux, 1};
    syncobj_wire_reply r = raw_call(es, s, &state, sizeof state);
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.aux, static_cast<uint32_t>(syncway::syncobj::PointState::Pending));
    EXPECT_NE(es.svc->find_timeline(victim_tl), nullptr) << "the host no longer recognises the victim's timeline";
    int s2 = raw_connect(es.path());
    es.pump(5);
    syncobj_wire_header import{SYNCOBJ_OP_IMPORT, 0};
    EXPECT_EQ(raw_request(es, s2, &import, sizeof import, {victim_tl}), 0);
    // And its own signal still works.
    ASSERT_EQ(write(p[1], "x", 1), 1);
    es.pump(10);
    r = raw_call(es, s, &state, sizeof state);
    EXPECT_EQ(r.aux, static_cast<uint32_t>(syncway::syncobj::PointState::Signaled));
    close(p[1]);
    close(victim_tl);
    close(s);
    close(s2);
}

// ---- limits --------------------------------------------------------------------------------

TEST(SyncobjHostile, ConnectionsPerClientProcessAreCapped)
{
    ServiceLimits limits;
    limits.max_connections = 8;
    limits.max_connections_per_client = 3;
    EmbeddedService es(limits);
    std::vector<int> mine;
    for (int i = 0; i < 5; i++)
        mine.push_back(raw_connect(es.path()));
    es.pump(10);
    EXPECT_EQ(es.svc->connection_count(), 3u);
    syncobj_wire_header hello{SYNCOBJ_OP_HELLO, 0};
    EXPECT_EQ(raw_request(es, mine[0], &hello, sizeof hello), 0);
    EXPECT_LT(raw_request(es, mine[3], &hello, sizeof hello), 0) << "the fourth connection was closed";
    bool logged = false;
    for (auto& l : es.log)
        logged |= l.find("it already has 3 connections (limit 3 per client process)") != std::string::npos;
    EXPECT_TRUE(logged);
    // Another process is still served.
    es.spawn([] {
        syncobj_device* dev = open_dev();
        int tl;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
        return 0;
    });
    expect_children_ok(es.run());
    // Connections closed give their slots back.
    for (int fd : mine)
        close(fd);
    es.pump(10);
    EXPECT_EQ(es.svc->connection_count(), 0u);
    mine.clear();
    for (int i = 0; i < 3; i++)
        mine.push_back(raw_connect(es.path()));
    es.pump(10);
    EXPECT_EQ(es.svc->connection_count(), 3u);
    for (int fd : mine)
        close(fd);
    es.pump(10);
    EXPECT_EQ(es.svc->fds_held(), 0u);
}

TEST(SyncobjHostile, FdsPerConnectionCountLiveObjectsNotHandles)
{
    // A client that closes its handles but keeps the timelines' fds still holds the service's
    // end of each: that is what the fd limit counts.
    ServiceLimits limits;
    limits.max_fds_per_connection = 6;
    EmbeddedService es(limits);
    int fds_at_start = count_open_fds();
    int s = raw_connect(es.path());
    es.pump(5);
    std::vector<int> kept;
    syncobj_wire_reply r{};
    std::string text;
    for (int i = 0; i < 10; i++) {
        syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
        int tl = -1;
        r = raw_call(es, s, &create, sizeof create, &tl);
        if (r.error)
            break;
        kept.push_back(tl);
        syncobj_wire_handle close_handle{{SYNCOBJ_OP_CLOSE_HANDLE, 0}, r.aux};
        ASSERT_EQ(send(s, &close_handle, sizeof close_handle, 0), static_cast<ssize_t>(sizeof close_handle));
    }
    EXPECT_EQ(r.error, EMFILE);
    EXPECT_EQ(kept.size(), 6u);
    syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
    EXPECT_EQ(raw_request(es, s, &create, sizeof create, {}, &text), EMFILE);
    EXPECT_NE(text.find("limit max_fds_per_connection = 6"), std::string::npos) << text;
    // One given back: room for one more.
    close(kept.back());
    kept.pop_back();
    es.pump(10);
    int tl = -1;
    r = raw_call(es, s, &create, sizeof create, &tl);
    EXPECT_EQ(r.error, 0);
    kept.push_back(tl);
    // The client leaves: nothing stays.
    for (int fd : kept)
        close(fd);
    close(s);
    es.pump(20);
    EXPECT_EQ(es.svc->timeline_count(), 0u);
    EXPECT_EQ(es.svc->fds_held(), 0u);
    EXPECT_EQ(count_open_fds(), fds_at_start);
}

TEST(SyncobjHostile, EventfdWaitsGoWithTheirConnection)
{
    // The timeline outlives the client (the parent holds it, as a compositor would); the
    // eventfd waits the client registered on it do not.
    EmbeddedService es;
    Channel ch;
    int* sv = ch.fd;
    int fds_at_start = count_open_fds();
    es.spawn([&] {
        syncobj_device* dev = open_dev();
        int tl;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &tl) == 0, 10);
        CHILD_CHECK(send_fd(sv[0], tl), 11);
        for (int i = 0; i < 50; i++) {
            int efd = new_eventfd();
            CHILD_CHECK(syncobj_eventfd(dev, tl, 100, efd, 0) == 0, 12);
            close(efd);
        }
        return 0;
    });
    auto st = es.run();
    expect_children_ok(st);
    int held = recv_fd(sv[1]);
    ASSERT_GE(held, 0);
    es.pump(20);
    EXPECT_EQ(es.svc->timeline_count(), 1u);
    EXPECT_EQ(es.svc->pending_object_count(), 0u) << "eventfd waits of a closed connection stayed";
    EXPECT_EQ(count_open_fds(), fds_at_start + 2) << "the held timeline and the service's end of it, no more";
    close(held);
    es.pump(20);
    EXPECT_EQ(es.svc->fds_held(), 0u);
    EXPECT_EQ(count_open_fds(), fds_at_start);
}

TEST(SyncobjHostile, PendingPointsPerTimelineAreBounded)
{
    ServiceLimits limits;
    limits.max_pending_points_per_timeline = 16;
    EmbeddedService es(limits);
    es.spawn([] {
        syncobj_device* dev = open_dev();
        int src, dst, sig;
        CHILD_CHECK(dev && syncobj_create(dev, 0, &src) == 0 && syncobj_create(dev, 0, &dst) == 0, 10);
        CHILD_CHECK(syncobj_submit(dev, src, 1, &sig) == 0, 11);
        // TRANSFERs of one pending point: each a node and a fence on dst.
        int r = 0, n = 0;
        for (; n < 1000 && (r = syncobj_transfer(dev, dst, 1 + n, src, 1, 0)) == 0; n++) {
        }
        CHILD_CHECK(r == -ENOSPC && n == 8, 12);
        CHILD_CHECK(last_error_has("limit max_pending_points_per_timeline = 16"), 13);
        // Signals behind the pending point: a node each.
        uint64_t p = 2;
        for (n = 0; n < 1000; n++, p++)
            if ((r = syncobj_signal(dev, &src, &p, 1)) != 0)
                break;
        CHILD_CHECK(r == -ENOSPC && n == 14, 14);
        // Once the point signals, everything behind it collapses: room again.
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 15);
        uint64_t last = 8;
        CHILD_CHECK(syncobj_wait(dev, &dst, &last, 1, now_ns() + 2000000000, 0, nullptr) == 0, 16);
        CHILD_CHECK(syncobj_transfer(dev, dst, 100, src, 1, 0) == 0, 17);
        return 0;
    });
    expect_children_ok(es.run());
    EXPECT_EQ(es.svc->timeline_count(), 0u);
}

TEST(SyncobjHostile, PendingPointsPerConnectionAreBounded)
{
    // Spread over many timelines, each under its own limit: the connection's budget still
    // binds, comes back as the points resolve, and is the connection's alone.
    ServiceLimits limits;
    limits.max_pending_points_per_connection = 20;
    EmbeddedService es(limits);
    es.spawn([] {
        syncobj_device* dev = open_dev();
        int src, sig, dst[8];
        CHILD_CHECK(dev && syncobj_create(dev, 0, &src) == 0, 10);
        for (int& d : dst)
            CHILD_CHECK(syncobj_create(dev, 0, &d) == 0, 11);
        CHILD_CHECK(syncobj_submit(dev, src, 1, &sig) == 0, 12); // 1 pending point
        int r = 0, n = 0;
        for (; n < 100; n++)
            if ((r = syncobj_transfer(dev, dst[n % 8], 1 + n / 8, src, 1, 0)) != 0)
                break;
        CHILD_CHECK(r == -ENOSPC && n == 19, 13);
        CHILD_CHECK(last_error_has("limit max_pending_points_per_connection = 20"), 14);
        // An idle timeline still takes a signal (it keeps nothing).
        int idle;
        uint64_t five = 5;
        CHILD_CHECK(syncobj_create(dev, 0, &idle) == 0 && syncobj_signal(dev, &idle, &five, 1) == 0, 15);
        // Another client's budget is its own.
        pid_t other = fork();
        if (other == 0) {
            syncobj_device* dev2 = open_dev();
            int t, s2;
            _exit(dev2 && syncobj_create(dev2, 0, &t) == 0 && syncobj_submit(dev2, t, 1, &s2) == 0 ? 0 : 1);
        }
        int st = -1;
        waitpid(other, &st, 0);
        CHILD_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, 16);
        // The point signals: everything that waited on it resolves and the budget comes back.
        CHILD_CHECK(syncobj_signaler_signal(dev, sig) == 0, 17);
        uint64_t last = 3;
        CHILD_CHECK(syncobj_wait(dev, &dst[1], &last, 1, now_ns() + 2000000000, 0, nullptr) == 0, 18);
        for (n = 0; n < 19; n++)
            CHILD_CHECK(syncobj_transfer(dev, dst[n % 8], 10 + n / 8, src, 1, 0) == 0, 19);
        return 0;
    });
    expect_children_ok(es.run());
    EXPECT_EQ(es.svc->timeline_count(), 0u);
}
