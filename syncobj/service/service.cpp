#include "service.hpp"

#include "fd_kind.hpp"
#include "fd_passing.hpp"
#include "poller.hpp"
#include "wire_request.hpp"

#include <fcntl.h>
#include <linux/sync_file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace syncway::syncobj {

namespace {

constexpr size_t kMaxFdsPerMessage = 4;
constexpr int kMessagesPerWakeup = 64; // fairness between busy connections

std::string errno_text(int e) { return std::string(strerror(e)); }

void write_eventfd(int fd, uint64_t value)
{
    // A full counter (a client that never reads) only loses this wake-up; never block.
    ssize_t r = write(fd, &value, sizeof value);
    (void)r;
}

Result<std::pair<UniqueFd, UniqueFd>> make_socket_pair()
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0)
        return make_error(errno, std::string("cannot create a socket pair: ") + errno_text(errno));
    UniqueFd ours(sv[0]), theirs(sv[1]);
    // The client end is a capability, not a channel: writes to it fail with EPIPE.
    shutdown(ours.get(), SHUT_RD);
    // The client's end is blocking like any fd a user expects to get.
    int fl = fcntl(theirs.get(), F_GETFL);
    fcntl(theirs.get(), F_SETFL, fl & ~O_NONBLOCK);
    return std::make_pair(std::move(ours), std::move(theirs));
}

ino_t inode_of(int fd)
{
    struct stat st {};
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

struct Reply {
    int error = 0;
    std::string message;
    uint32_t aux = 0;
    uint64_t value = 0;
    std::vector<uint64_t> payload;
    UniqueFd fd;

    static Reply fail(int error, std::string message)
    {
        Reply r;
        r.error = error;
        r.message = std::move(message);
        return r;
    }
    static Reply fail(const Error& e) { return fail(e.code, e.message); }
};

} // namespace

// ---- objects -------------------------------------------------------------------------------

struct TimelineObject final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd end;
    ino_t ino = 0;
    std::shared_ptr<core::Timeline> timeline;
    TimelineObject(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

struct SignalerObject final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd end;
    ino_t ino = 0;
    core::FenceRef fence;
    SignalerObject(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

// The service's end of an exported sync file: one status message when the point resolves.
struct ExportObject final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd end;
    core::FenceRef fence;
    ExportObject(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

// An imported sync file (kernel or ours) that has not resolved yet.
struct ImportWatch final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd fd;
    bool kernel = false;
    core::FenceRef fence;
    ImportWatch(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

struct EventfdWait final : core::Waiter {
    Service::State& s;
    uint64_t key = 0;
    uint64_t owner = 0; // connection id, for its count of pending waits
    UniqueFd efd;
    EventfdWait(Service::State& state) : s(state) {}
    void resolved(int) override;
    void dropped() override;
};

struct Connection;

struct WaitGroup {
    struct Entry final : core::Waiter {
        WaitGroup* group = nullptr;
        uint32_t index = 0;
        void resolved(int error) override { group->entry_resolved(index, error); }
        void dropped() override { group->entry_resolved(index, ENOENT); }
    };
    Connection* conn = nullptr;
    uint32_t wait_id = 0;
    bool all = false;
    bool done = false;
    bool registered = false;
    uint32_t resolved_count = 0;
    uint32_t first = 0;
    int error = 0;
    UniqueFd efd;
    std::vector<std::unique_ptr<Entry>> entries;

    void entry_resolved(uint32_t index, int err);
};

struct Connection final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd sock;
    pid_t pid = 0;
    std::unordered_map<uint32_t, uint64_t> handles; // handle -> object id
    uint32_t next_handle = 1;
    std::unordered_map<uint32_t, std::unique_ptr<WaitGroup>> waits;
    uint32_t eventfd_waits = 0;
    Connection(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
    bool read_one();
    Reply handle(const WireRequest& req, std::vector<UniqueFd>& fds);
    bool send_reply(uint16_t op, Reply& r);
    void close_connection(const std::string& why);

    Result<uint32_t> new_handle(uint64_t object_id);
    TimelineObject* timeline(uint32_t handle);
    Result<std::vector<TimelineObject*>> timelines(const std::vector<uint32_t>& hs);
    uint32_t pending_waits() const { return static_cast<uint32_t>(waits.size()) + eventfd_waits; }
    Status check_wait_limit();

    Reply op_create(const WireRequest& req);
    Reply op_import(std::vector<UniqueFd>& fds);
    Reply op_submit(const WireRequest& req);
    void op_signaler_signal(const WireRequest& req);
    Reply op_signal(const WireRequest& req);
    Reply op_reset(const WireRequest& req);
    Reply op_query(const WireRequest& req);
    Reply op_wait(const WireRequest& req, std::vector<UniqueFd>& fds);
    Reply op_eventfd(const WireRequest& req, std::vector<UniqueFd>& fds);
    Reply op_transfer(const WireRequest& req);
    Reply op_export(const WireRequest& req);
    Reply op_import_sync_file(const WireRequest& req, std::vector<UniqueFd>& fds);
    Reply op_point_state(const WireRequest& req);
};

struct Listener final : Poller::Source {
    Service::State& s;
    Listener(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

struct Service::State {
    Options opt;
    Poller poller;
    UniqueFd listen_fd;
    uint64_t listen_id = 0;
    Listener listener{*this};
    std::string path;
    bool unlink_path = false;
    uid_t uid = getuid();
    // Held in reserve so a connection can still be refused when the process is out of fds.
    UniqueFd spare_fd{open("/dev/null", O_RDONLY | O_CLOEXEC)};

    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;
    std::unordered_map<uint64_t, std::unique_ptr<TimelineObject>> timelines;
    std::unordered_map<uint64_t, std::unique_ptr<SignalerObject>> signalers;
    std::unordered_map<uint64_t, std::unique_ptr<ExportObject>> exports;
    std::unordered_map<uint64_t, std::unique_ptr<ImportWatch>> imports;
    std::unordered_map<uint64_t, std::unique_ptr<EventfdWait>> eventfd_waits;
    std::unordered_map<ino_t, uint64_t> by_ino; // client-end inode -> timeline/signaler id
    uint64_t next_key = 1;

    // Objects finished inside callbacks die here, after the callback stack has unwound.
    std::vector<std::unique_ptr<Poller::Source>> dead_sources;
    std::vector<std::unique_ptr<core::Waiter>> dead_waiters;
    std::vector<std::unique_ptr<WaitGroup>> dead_groups;

    void log(const std::string& line)
    {
        if (opt.log)
            opt.log(line);
    }
    template <typename Map> void retire(Map& map, uint64_t id, int fd)
    {
        auto it = map.find(id);
        if (it == map.end())
            return;
        poller.remove(fd, id);
        dead_sources.push_back(std::move(it->second));
        map.erase(it);
    }
    void retire_timeline(TimelineObject& t)
    {
        by_ino.erase(t.ino);
        retire(timelines, t.id, t.end.get());
    }
    void retire_signaler(SignalerObject& sig)
    {
        by_ino.erase(sig.ino);
        retire(signalers, sig.id, sig.end.get());
    }
    void collect()
    {
        // Destroying objects can finish more (a timeline drops its parked waiters).
        while (!dead_sources.empty() || !dead_waiters.empty() || !dead_groups.empty()) {
            auto sources = std::move(dead_sources);
            auto waiters = std::move(dead_waiters);
            auto groups = std::move(dead_groups);
            dead_sources.clear();
            dead_waiters.clear();
            dead_groups.clear();
        }
    }
    Status register_source(int fd, uint32_t events, Poller::Source* src, uint64_t& id)
    {
        if (!poller.add(fd, events, src, id))
            return make_error(errno, "cannot watch an fd: " + errno_text(errno));
        return Ok{};
    }
    Result<TimelineObject*> new_timeline(bool signaled, UniqueFd& client_end);
    Result<core::FenceRef> import_sync_file(UniqueFd fd, const FdInfo& info);
    Result<UniqueFd> export_fence(core::FenceRef fence);
};

// ---- object behaviour ------------------------------------------------------------------------

void TimelineObject::ready(uint32_t events)
{
    if (events & (EPOLLHUP | EPOLLERR))
        s.retire_timeline(*this);
}

void SignalerObject::ready(uint32_t events)
{
    if (events & (EPOLLHUP | EPOLLERR)) {
        // Every copy of the signaler is gone and it never signaled: the point must not look
        // signaled to anyone.
        fence->resolve(EOWNERDEAD);
        s.retire_signaler(*this);
    }
}

void ExportObject::ready(uint32_t events)
{
    if (events & (EPOLLHUP | EPOLLERR))
        s.retire(s.exports, id, end.get());
}

void ImportWatch::ready(uint32_t events)
{
    int error = 0;
    if (kernel) {
        sync_file_info info{};
        if (ioctl(fd.get(), SYNC_IOC_FILE_INFO, &info) == 0)
            error = info.status < 0 ? -info.status : 0;
        else
            error = EIO;
    } else {
        syncobj_wire_sync_status st{};
        ssize_t n = recv(fd.get(), &st, sizeof st, MSG_PEEK | MSG_DONTWAIT);
        if (n == sizeof st && st.magic == SYNCOBJ_WIRE_SYNC_MAGIC)
            error = st.error;
        else if (n < 0 && errno == EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
            return;
        else
            error = EPIPE; // its service went away without a status
    }
    fence->resolve(error);
    s.retire(s.imports, id, fd.get());
}

void EventfdWait::resolved(int)
{
    write_eventfd(efd.get(), 1);
    dropped();
}

void EventfdWait::dropped()
{
    auto conn = s.connections.find(owner);
    if (conn != s.connections.end() && conn->second->eventfd_waits > 0)
        conn->second->eventfd_waits--;
    auto it = s.eventfd_waits.find(key);
    if (it != s.eventfd_waits.end()) {
        s.dead_waiters.push_back(std::move(it->second));
        s.eventfd_waits.erase(it);
    }
}

void WaitGroup::entry_resolved(uint32_t index, int err)
{
    if (done)
        return;
    if (all) {
        resolved_count++;
        if (err && !error) {
            error = err;
            first = index;
        }
        if (resolved_count < entries.size())
            return;
    } else {
        first = index;
        error = err;
    }
    done = true;
    if (efd)
        write_eventfd(efd.get(), SYNCOBJ_WIRE_WAIT_VALUE(first, error));
    if (registered) {
        auto it = conn->waits.find(wait_id);
        if (it != conn->waits.end()) {
            conn->s.dead_groups.push_back(std::move(it->second));
            conn->waits.erase(it);
        }
    }
}

void Listener::ready(uint32_t)
{
    for (;;) {
        UniqueFd fd(accept4(s.listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno == EMFILE || errno == ENFILE) {
                // Out of fds: the pending connection would keep the listener readable and
                // spin the loop. Spend the spare fd to take it and hang up on it.
                s.spare_fd.reset();
                int refused = accept4(s.listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
                if (refused >= 0)
                    close(refused);
                s.spare_fd.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
                s.log("refused a connection: the service is out of file descriptors");
                if (refused >= 0 && s.spare_fd)
                    continue;
            } else if (errno != EAGAIN && errno != EINTR) {
                s.log(std::string("accept failed: ") + errno_text(errno));
            }
            return;
        }
        struct ucred cred {};
        socklen_t len = sizeof cred;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != s.uid) {
            s.log("refused a connection from uid " + std::to_string(cred.uid) + " (pid " +
                  std::to_string(cred.pid) + "): only uid " + std::to_string(s.uid) + " may connect");
            continue;
        }
        if (s.connections.size() >= s.opt.limits.max_connections) {
            s.log("refused a connection from pid " + std::to_string(cred.pid) + ": limit of " +
                  std::to_string(s.opt.limits.max_connections) + " connections reached");
            continue;
        }
        auto conn = std::make_unique<Connection>(s);
        conn->sock = std::move(fd);
        conn->pid = cred.pid;
        if (!s.register_source(conn->sock.get(), EPOLLIN, conn.get(), conn->id))
            continue;
        s.connections[conn->id] = std::move(conn);
    }
}

// ---- connections ---------------------------------------------------------------------------

void Connection::close_connection(const std::string& why)
{
    if (!why.empty())
        s.log("connection of pid " + std::to_string(pid) + " closed: " + why);
    for (auto& [wid, group] : waits)
        s.dead_groups.push_back(std::move(group));
    waits.clear();
    s.retire(s.connections, id, sock.get());
}

void Connection::ready(uint32_t events)
{
    if (events & EPOLLIN) {
        for (int i = 0; i < kMessagesPerWakeup; i++)
            if (!read_one())
                return;
        return;
    }
    if (events & (EPOLLHUP | EPOLLERR))
        close_connection("");
}

bool Connection::read_one()
{
    ReceiveBuffer<SYNCOBJ_WIRE_MAX_MESSAGE, kMaxFdsPerMessage> rb;
    uint8_t* buf = rb.data;
    msghdr& msg = rb.msg;
    ssize_t n = recvmsg(sock.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return false;
        close_connection(std::string("receive failed: ") + errno_text(errno));
        return false;
    }
    std::vector<UniqueFd> fds = take_fds(msg);
    if (n == 0) {
        close_connection("");
        return false;
    }
    uint16_t op = 0;
    if (static_cast<size_t>(n) >= sizeof op)
        std::memcpy(&op, buf, sizeof op);
    Reply reply;
    if (msg.msg_flags & MSG_TRUNC)
        reply = Reply::fail(EINVAL, "request longer than " + std::to_string(SYNCOBJ_WIRE_MAX_MESSAGE) + " bytes");
    else if (msg.msg_flags & MSG_CTRUNC)
        reply = Reply::fail(EINVAL, "more than " + std::to_string(kMaxFdsPerMessage) + " fds in one request");
    else {
        auto req = decode_request(buf, static_cast<size_t>(n));
        if (!req)
            reply = Reply::fail(req.error());
        else if (fds.size() < req->fds_expected)
            reply = Reply::fail(EBADF, "request op " + std::to_string(op) + " needs an fd and none came");
        else if (fds.size() > req->fds_expected)
            reply = Reply::fail(EINVAL, "request op " + std::to_string(op) + " carries unexpected fds");
        else
            reply = handle(*req, fds);
    }
    if (!op_has_reply(op))
        return true;
    return send_reply(op, reply);
}

bool Connection::send_reply(uint16_t op, Reply& r)
{
    syncobj_wire_reply head{};
    head.error = r.error;
    head.aux = r.aux;
    head.value = r.value;
    uint8_t buf[SYNCOBJ_WIRE_MAX_MESSAGE];
    size_t len = sizeof head;
    std::memcpy(buf, &head, sizeof head);
    if (r.error) {
        std::string text = r.message.substr(0, SYNCOBJ_WIRE_MAX_ERROR_TEXT - 1);
        std::memcpy(buf + len, text.c_str(), text.size() + 1);
        len += text.size() + 1;
    } else if (!r.payload.empty()) {
        std::memcpy(buf + len, r.payload.data(), r.payload.size() * sizeof(uint64_t));
        len += r.payload.size() * sizeof(uint64_t);
    }
    iovec iov{buf, len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    OneFdControl control;
    if (r.fd)
        attach_fd(msg, control, r.fd.get());
    if (sendmsg(sock.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        // A client that does not read its replies would make us buffer without bound.
        close_connection("cannot send a reply to op " + std::to_string(op) + ": " + errno_text(errno));
        return false;
    }
    return true;
}

Result<uint32_t> Connection::new_handle(uint64_t object_id)
{
    if (handles.size() >= s.opt.limits.max_handles_per_connection) {
        for (auto it = handles.begin(); it != handles.end();) {
            bool live = s.timelines.count(it->second) || s.signalers.count(it->second);
            it = live ? std::next(it) : handles.erase(it);
        }
        if (handles.size() >= s.opt.limits.max_handles_per_connection)
            return make_error(ENOSPC, "this connection already holds " + std::to_string(handles.size()) +
                                          " handles (limit " +
                                          std::to_string(s.opt.limits.max_handles_per_connection) + ")");
    }
    while (next_handle == 0 || handles.count(next_handle))
        next_handle++;
    uint32_t h = next_handle++;
    handles[h] = object_id;
    return h;
}

TimelineObject* Connection::timeline(uint32_t handle)
{
    auto it = handles.find(handle);
    if (it == handles.end())
        return nullptr;
    auto t = s.timelines.find(it->second);
    return t == s.timelines.end() ? nullptr : t->second.get();
}

Result<std::vector<TimelineObject*>> Connection::timelines(const std::vector<uint32_t>& hs)
{
    std::vector<TimelineObject*> out;
    out.reserve(hs.size());
    for (uint32_t h : hs) {
        TimelineObject* t = timeline(h);
        if (!t)
            return make_error(ENOENT, "no timeline with handle " + std::to_string(h));
        out.push_back(t);
    }
    return out;
}

Status Connection::check_wait_limit()
{
    if (pending_waits() >= s.opt.limits.max_waits_per_connection)
        return make_error(ENOSPC, "this connection already has " + std::to_string(pending_waits()) +
                                      " pending waits (limit " +
                                      std::to_string(s.opt.limits.max_waits_per_connection) + ")");
    return Ok{};
}

Reply Connection::handle(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    switch (req.op) {
    case SYNCOBJ_OP_HELLO: {
        Reply r;
        r.value = SYNCOBJ_WIRE_VERSION;
        return r;
    }
    case SYNCOBJ_OP_CREATE:
        return op_create(req);
    case SYNCOBJ_OP_IMPORT:
        return op_import(fds);
    case SYNCOBJ_OP_CLOSE_HANDLE:
        handles.erase(req.handle);
        return {};
    case SYNCOBJ_OP_SUBMIT:
        return op_submit(req);
    case SYNCOBJ_OP_SIGNALER_SIGNAL:
        op_signaler_signal(req);
        return {};
    case SYNCOBJ_OP_SIGNAL:
        return op_signal(req);
    case SYNCOBJ_OP_RESET:
        return op_reset(req);
    case SYNCOBJ_OP_QUERY:
        return op_query(req);
    case SYNCOBJ_OP_WAIT:
        return op_wait(req, fds);
    case SYNCOBJ_OP_CANCEL_WAIT: {
        auto it = waits.find(req.wait_id);
        if (it != waits.end()) {
            s.dead_groups.push_back(std::move(it->second));
            waits.erase(it);
        }
        return {};
    }
    case SYNCOBJ_OP_EVENTFD:
        return op_eventfd(req, fds);
    case SYNCOBJ_OP_TRANSFER:
        return op_transfer(req);
    case SYNCOBJ_OP_EXPORT_SYNC_FILE:
        return op_export(req);
    case SYNCOBJ_OP_IMPORT_SYNC_FILE:
        return op_import_sync_file(req, fds);
    case SYNCOBJ_OP_POINT_STATE:
        return op_point_state(req);
    default:
        return Reply::fail(EINVAL, "unknown request op " + std::to_string(req.op));
    }
}

Result<TimelineObject*> Service::State::new_timeline(bool signaled, UniqueFd& client_end)
{
    auto pair = make_socket_pair();
    if (!pair)
        return pair.error();
    auto t = std::make_unique<TimelineObject>(*this);
    t->end = std::move(pair->first);
    client_end = std::move(pair->second);
    t->ino = inode_of(client_end.get());
    t->timeline = std::make_shared<core::Timeline>(signaled);
    auto st = register_source(t->end.get(), 0, t.get(), t->id);
    if (!st)
        return st.error();
    by_ino[t->ino] = t->id;
    TimelineObject* raw = t.get();
    timelines[t->id] = std::move(t);
    return raw;
}

Reply Connection::op_create(const WireRequest& req)
{
    if (req.flags & ~1u)
        return Reply::fail(EINVAL, "unknown create flags 0x" + std::to_string(req.flags));
    UniqueFd client_end;
    auto t = s.new_timeline(req.flags & 1u, client_end);
    if (!t)
        return Reply::fail(t.error());
    auto h = new_handle(t.value()->id);
    if (!h) {
        s.retire_timeline(*t.value());
        return Reply::fail(h.error());
    }
    Reply r;
    r.aux = h.value();
    r.fd = std::move(client_end);
    return r;
}

Reply Connection::op_import(std::vector<UniqueFd>& fds)
{
    int fd = fds[0].get();
    FdInfo info = inspect_fd(fd);
    auto it = s.by_ino.find(info.inode);
    if (info.kind != FdKind::SeqpacketSocket || it == s.by_ino.end())
        return Reply::fail(EINVAL, describe_fd(fd, info) + " is not a timeline of this service");
    auto h = new_handle(it->second);
    if (!h)
        return Reply::fail(h.error());
    Reply r;
    r.aux = h.value();
    r.value = s.timelines.count(it->second) ? SYNCOBJ_KIND_TIMELINE : SYNCOBJ_KIND_SIGNALER;
    return r;
}

Reply Connection::op_submit(const WireRequest& req)
{
    TimelineObject* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    auto pair = make_socket_pair();
    if (!pair)
        return Reply::fail(pair.error());
    auto sig = std::make_unique<SignalerObject>(s);
    sig->end = std::move(pair->first);
    sig->ino = inode_of(pair->second.get());
    sig->fence = std::make_shared<core::Fence>();
    auto st = s.register_source(sig->end.get(), 0, sig.get(), sig->id);
    if (!st)
        return Reply::fail(st.error());
    auto h = new_handle(sig->id);
    if (!h) {
        s.poller.remove(sig->end.get(), sig->id);
        return Reply::fail(h.error());
    }
    s.by_ino[sig->ino] = sig->id;
    core::FenceRef fence = sig->fence;
    s.signalers[sig->id] = std::move(sig);
    t->timeline->add(req.point, std::move(fence));
    Reply r;
    r.aux = h.value();
    r.fd = std::move(pair->second);
    return r;
}

void Connection::op_signaler_signal(const WireRequest& req)
{
    auto it = handles.find(req.handle);
    if (it == handles.end())
        return;
    auto sig = s.signalers.find(it->second);
    handles.erase(it);
    if (sig == s.signalers.end())
        return; // signaled already, or every copy closed: nothing to do
    sig->second->fence->resolve(0);
    s.retire_signaler(*sig->second);
}

Reply Connection::op_signal(const WireRequest& req)
{
    if (req.flags)
        return Reply::fail(EINVAL, "signal flags must be 0");
    auto ts = timelines(req.handles);
    if (!ts)
        return Reply::fail(ts.error());
    for (size_t i = 0; i < ts->size(); i++) {
        auto tl = (*ts)[i]->timeline; // a waiter callback may retire the object
        tl->signal(req.points[i]);
    }
    return {};
}

Reply Connection::op_reset(const WireRequest& req)
{
    if (req.flags)
        return Reply::fail(EINVAL, "reset flags must be 0");
    auto ts = timelines(req.handles);
    if (!ts)
        return Reply::fail(ts.error());
    for (TimelineObject* t : *ts)
        t->timeline->reset();
    return {};
}

Reply Connection::op_query(const WireRequest& req)
{
    if (req.flags & ~1u)
        return Reply::fail(EINVAL, "unknown query flags");
    auto ts = timelines(req.handles);
    if (!ts)
        return Reply::fail(ts.error());
    Reply r;
    for (TimelineObject* t : *ts)
        r.payload.push_back(t->timeline->query(req.flags & 1u));
    return r;
}

Reply Connection::op_wait(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    constexpr uint32_t known = core::kWaitAll | core::kWaitForSubmit | core::kWaitAvailable |
                               core::kWaitDeadline | SYNCOBJ_WIRE_WAIT_POLL_ONLY;
    if (req.flags & ~known)
        return Reply::fail(EINVAL, "unknown wait flags");
    auto ts = timelines(req.handles);
    if (!ts)
        return Reply::fail(ts.error());
    bool poll_only = req.flags & SYNCOBJ_WIRE_WAIT_POLL_ONLY;
    if (!poll_only) {
        FdInfo info = inspect_fd(fds[0].get());
        if (info.kind != FdKind::Eventfd)
            return Reply::fail(EINVAL, describe_fd(fds[0].get(), info) + " is not an eventfd");
        if (waits.count(req.wait_id))
            return Reply::fail(EEXIST, "wait id " + std::to_string(req.wait_id) + " is already pending");
        auto lim = check_wait_limit();
        if (!lim)
            return Reply::fail(lim.error());
    }
    for (size_t i = 0; i < ts->size(); i++)
        if (!(req.flags & core::kWaitForSubmit) && !(*ts)[i]->timeline->submitted(req.points[i]))
            return Reply::fail(EINVAL, "point " + std::to_string(req.points[i]) +
                                           " is not submitted (entry " + std::to_string(i) + ")");
    auto group = std::make_unique<WaitGroup>();
    group->conn = this;
    group->wait_id = req.wait_id;
    group->all = req.flags & core::kWaitAll;
    uint32_t flags = req.flags & (core::kWaitForSubmit | core::kWaitAvailable);
    for (uint32_t i = 0; i < ts->size() && !group->done; i++) {
        auto e = std::make_unique<WaitGroup::Entry>();
        e->group = group.get();
        e->index = i;
        group->entries.push_back(std::move(e));
        auto tl = (*ts)[i]->timeline;
        auto st = tl->wait(*group->entries.back(), req.points[i], flags);
        if (!st)
            return Reply::fail(st.error());
    }
    Reply r;
    if (group->done) {
        r.aux = group->first;
        r.value = 1;
        if (group->error)
            return Reply::fail(group->error, "point " + std::to_string(req.points[group->first]) +
                                                 " failed: " + errno_text(group->error));
        return r;
    }
    if (poll_only)
        return Reply::fail(ETIME, "not signaled");
    group->efd = std::move(fds[0]);
    group->registered = true;
    waits[req.wait_id] = std::move(group);
    return r;
}

Reply Connection::op_eventfd(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    if (req.flags & ~core::kWaitAvailable)
        return Reply::fail(EINVAL, "eventfd flags may only hold WAIT_AVAILABLE");
    TimelineObject* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    FdInfo info = inspect_fd(fds[0].get());
    if (info.kind != FdKind::Eventfd)
        return Reply::fail(EINVAL, describe_fd(fds[0].get(), info) + " is not an eventfd");
    auto lim = check_wait_limit();
    if (!lim)
        return Reply::fail(lim.error());
    auto w = std::make_unique<EventfdWait>(s);
    w->key = s.next_key++;
    w->owner = id;
    w->efd = std::move(fds[0]);
    EventfdWait& ref = *w;
    s.eventfd_waits[w->key] = std::move(w);
    eventfd_waits++;
    auto tl = t->timeline;
    (void)tl->wait(ref, req.point, req.flags | core::kWaitForSubmit);
    return {};
}

Reply Connection::op_transfer(const WireRequest& req)
{
    if (req.flags & ~core::kWaitForSubmit)
        return Reply::fail(EINVAL, "transfer flags may only hold WAIT_FOR_SUBMIT");
    TimelineObject* src = timeline(req.handle);
    TimelineObject* dst = timeline(req.dst_handle);
    if (!src || !dst)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(src ? req.dst_handle : req.handle));
    auto dst_tl = dst->timeline;
    auto fence = src->timeline->fence_for(req.point, req.flags);
    if (!fence)
        return Reply::fail(fence.error());
    dst_tl->add(req.dst_point, std::move(fence.value()));
    return {};
}

Result<UniqueFd> Service::State::export_fence(core::FenceRef fence)
{
    auto pair = make_socket_pair();
    if (!pair)
        return pair.error();
    auto send_status = [](int fd, int error) {
        syncobj_wire_sync_status st{SYNCOBJ_WIRE_SYNC_MAGIC, error};
        ssize_t r = send(fd, &st, sizeof st, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)r;
    };
    if (fence->resolved()) {
        send_status(pair->first.get(), fence->error());
        return std::move(pair->second);
    }
    auto ex = std::make_unique<ExportObject>(*this);
    ex->end = std::move(pair->first);
    ex->fence = fence;
    auto st = register_source(ex->end.get(), 0, ex.get(), ex->id);
    if (!st)
        return st.error();
    uint64_t ex_id = ex->id;
    exports[ex_id] = std::move(ex);
    fence->on_resolved([this, ex_id, send_status](int error) {
        auto it = exports.find(ex_id);
        if (it == exports.end())
            return;
        send_status(it->second->end.get(), error);
        retire(exports, ex_id, it->second->end.get());
    });
    return std::move(pair->second);
}

Reply Connection::op_export(const WireRequest& req)
{
    TimelineObject* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    auto fence = t->timeline->fence_for(req.point, 0);
    if (!fence)
        return Reply::fail(fence.error());
    auto fd = s.export_fence(std::move(fence.value()));
    if (!fd)
        return Reply::fail(fd.error());
    Reply r;
    r.fd = std::move(fd.value());
    return r;
}

Result<core::FenceRef> Service::State::import_sync_file(UniqueFd fd, const FdInfo& info)
{
    bool kernel = info.kind == FdKind::KernelSyncFile;
    if (!kernel && info.kind != FdKind::SeqpacketSocket)
        return make_error(EINVAL, describe_fd(fd.get(), info) + " is not a sync file");
    if (!kernel) {
        // Ours: a socket that is, or will be, readable with one status message.
        syncobj_wire_sync_status st{};
        ssize_t n = recv(fd.get(), &st, sizeof st, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0 && (n != sizeof st || st.magic != SYNCOBJ_WIRE_SYNC_MAGIC))
            return make_error(EINVAL, describe_fd(fd.get(), info) + " is not a sync file");
        if (n < 0 && errno != EAGAIN)
            return make_error(EINVAL, describe_fd(fd.get(), info) + " is not a sync file");
        if (n == sizeof st)
            return core::Fence::make_resolved(st.error);
        struct ucred cred {};
        socklen_t len = sizeof cred;
        if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid != getpid())
            return make_error(EINVAL, describe_fd(fd.get(), info) + " is not a sync file of this service");
    }
    auto watch = std::make_unique<ImportWatch>(*this);
    watch->fd = std::move(fd);
    watch->kernel = kernel;
    watch->fence = std::make_shared<core::Fence>();
    auto st = register_source(watch->fd.get(), EPOLLIN, watch.get(), watch->id);
    if (!st)
        return st.error();
    core::FenceRef fence = watch->fence;
    imports[watch->id] = std::move(watch);
    return fence;
}

Reply Connection::op_import_sync_file(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    TimelineObject* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    FdInfo info = inspect_fd(fds[0].get());
    auto fence = s.import_sync_file(std::move(fds[0]), info);
    if (!fence)
        return Reply::fail(fence.error());
    auto tl = t->timeline;
    tl->add(req.point, std::move(fence.value()));
    return {};
}

Reply Connection::op_point_state(const WireRequest& req)
{
    TimelineObject* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    core::PointInfo info = t->timeline->info(req.point);
    Reply r;
    r.aux = static_cast<uint32_t>(info.phase);
    r.value = static_cast<uint64_t>(info.error);
    return r;
}

// ---- service -------------------------------------------------------------------------------

Service::Service(std::unique_ptr<State> state) : state_(std::move(state)) {}

Service::~Service()
{
    if (state_->unlink_path)
        unlink(state_->path.c_str());
    // Waiters reference timelines and connections: drop them before the objects go.
    state_->eventfd_waits.clear();
    for (auto& [id, c] : state_->connections)
        c->waits.clear();
    state_->collect();
}

static Result<std::unique_ptr<Service>> start(UniqueFd listener, std::string path, bool unlink_path,
                                              Service::Options options,
                                              std::unique_ptr<Service::State> state)
{
    state->opt = std::move(options);
    if (!state->poller.valid())
        return make_error(errno, std::string("epoll_create1 failed: ") + errno_text(errno));
    state->listen_fd = std::move(listener);
    state->path = std::move(path);
    state->unlink_path = unlink_path;
    auto st = state->register_source(state->listen_fd.get(), EPOLLIN, &state->listener, state->listen_id);
    if (!st)
        return st.error();
    return std::unique_ptr<Service>(new Service(std::move(state)));
}

Result<std::unique_ptr<Service>> Service::listen_at(const std::string& path, Options options)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return make_error(ENAMETOOLONG, "socket path \"" + path + "\" is empty or longer than " +
                                            std::to_string(sizeof addr.sun_path - 1) + " bytes");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        return make_error(errno, std::string("socket failed: ") + errno_text(errno));
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EADDRINUSE)
            return make_error(errno, "cannot bind \"" + path + "\": " + errno_text(errno));
        // A stale file from a dead service is replaced; a live service is left alone.
        UniqueFd probe(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        if (connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
            return make_error(EADDRINUSE, "a service is already listening on \"" + path + "\"");
        unlink(path.c_str());
        if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            return make_error(errno, "cannot bind \"" + path + "\": " + errno_text(errno));
    }
    chmod(path.c_str(), 0600);
    if (listen(fd.get(), 128) != 0)
        return make_error(errno, "cannot listen on \"" + path + "\": " + errno_text(errno));
    return start(std::move(fd), path, true, std::move(options), std::make_unique<State>());
}

Result<std::unique_ptr<Service>> Service::adopt(UniqueFd listener, Options options)
{
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    std::string path;
    if (getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0 && addr.sun_path[0])
        path = addr.sun_path;
    int type = 0;
    socklen_t tlen = sizeof type;
    if (getsockopt(listener.get(), SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_SEQPACKET)
        return make_error(EINVAL, "the socket handed over is not a SOCK_SEQPACKET Unix socket");
    int fl = fcntl(listener.get(), F_GETFL);
    fcntl(listener.get(), F_SETFL, fl | O_NONBLOCK);
    fcntl(listener.get(), F_SETFD, FD_CLOEXEC);
    return start(std::move(listener), path, false, std::move(options), std::make_unique<State>());
}

int Service::fd() const noexcept { return state_->poller.fd(); }

void Service::dispatch(int timeout_ms)
{
    state_->poller.run_once(timeout_ms);
    state_->collect();
}

const std::string& Service::path() const noexcept { return state_->path; }

std::shared_ptr<core::Timeline> Service::find_timeline(ino_t ino) const
{
    auto it = state_->by_ino.find(ino);
    if (it == state_->by_ino.end())
        return nullptr;
    auto t = state_->timelines.find(it->second);
    return t == state_->timelines.end() ? nullptr : t->second->timeline;
}

size_t Service::connection_count() const noexcept { return state_->connections.size(); }
size_t Service::timeline_count() const noexcept { return state_->timelines.size(); }
size_t Service::pending_object_count() const noexcept
{
    return state_->signalers.size() + state_->exports.size() + state_->imports.size() +
           state_->eventfd_waits.size();
}

} // namespace syncway::syncobj
