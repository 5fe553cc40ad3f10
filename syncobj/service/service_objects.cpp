#include "service_state.hpp"

namespace syncway::syncobj {

// ---- object behaviour ------------------------------------------------------------------------

TimelineObject::TimelineObject(Service::State& state, bool signaled)
    : s(state), slab(state.timeline_slab), hot(*slab->make(signaled))
{
}

TimelineObject::~TimelineObject() { slab->destroy(&hot); }

void TimelineObject::ready(uint32_t events)
{
    if (events & (EPOLLHUP | EPOLLERR))
        s.retire_timeline(*this);
}

void SignalerObject::signal()
{
    if (!signaled)
        fence->resolve(0);
    signaled = true;
}

void SignalerObject::ready(uint32_t events)
{
    bool writers_gone = events & (EPOLLHUP | EPOLLERR);
    if (events & EPOLLIN) {
        // One read: a byte signals (more bytes, more signals: the same as one). Whatever is
        // left is reported again by the level-triggered poll; no second read on the way to
        // the waiters.
        char bytes[64];
        ssize_t n = read(end.get(), bytes, sizeof bytes);
        if (n > 0)
            signal();
        writers_gone = writers_gone || n == 0;
    }
    if (!writers_gone)
        return;
    // Every copy of the signaler is gone. If it never signaled, the point must not look
    // signaled to anyone.
    if (!signaled)
        fence->resolve(EOWNERDEAD);
    s.retire_signaler(*this);
}

void ExportObject::ready(uint32_t events)
{
    if (events & (EPOLLHUP | EPOLLERR))
        s.retire_export(id);
}

void Service::State::retire_export(uint64_t ex_id)
{
    auto it = exports.find(ex_id);
    if (it == exports.end())
        return;
    auto f = exports_by_file.find(it->second->file);
    if (f != exports_by_file.end() && f->second == ex_id)
        exports_by_file.erase(f);
    retire(exports, ex_id, it->second->end.get());
}

void ImportWatch::ready(uint32_t)
{
    // A kernel sync_file polls readable once its fences signaled; the status says how.
    sync_file_info info{};
    int error = ioctl(fd.get(), SYNC_IOC_FILE_INFO, &info) == 0 ? (info.status < 0 ? -info.status : 0) : EIO;
    fence->resolve(error);
    s.retire(s.imports, id, fd.get());
}

void EventfdWait::resolved(int)
{
    write_eventfd(efd.get(), 1);
    dropped();
}

void Charge::bind(Service::State& state, uint64_t conn, uint32_t fd_count, uint32_t wait_count)
{
    if (state.closing)
        return;
    s = &state;
    owner = conn;
    fds = fd_count;
    waits = wait_count;
    s->fds_held += fds;
    auto it = s->connections.find(owner);
    if (it != s->connections.end()) {
        it->second->fds_held += fds;
        it->second->waits_held += waits;
    }
}

void Charge::release()
{
    if (!s || s->closing) {
        s = nullptr;
        return;
    }
    s->fds_held -= fds;
    auto it = s->connections.find(owner);
    if (it != s->connections.end()) {
        it->second->fds_held -= fds;
        it->second->waits_held -= waits;
    }
    s = nullptr;
}

void EventfdWait::dropped()
{
    if (charge.s) {
        auto conn = s.connections.find(charge.owner);
        if (conn != s.connections.end())
            conn->second->eventfd_keys.erase(key);
    }
    charge.release();
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
        if (resolved_count < entry_count)
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
        admit(std::move(fd));
    }
}

void Listener::admit(UniqueFd fd)
{
    // A refused connection is closed here (fd goes out of scope) before the client sends
    // anything: its first request sees the service hang up (EPIPE).
    const ServiceLimits& lim = s.opt.limits;
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != s.uid) {
        s.log("refused a connection from uid " + std::to_string(cred.uid) + " (pid " +
              std::to_string(cred.pid) + "): only uid " + std::to_string(s.uid) + " may connect");
        return;
    }
    std::string who = "refused a connection from pid " + std::to_string(cred.pid) + ": ";
    if (s.connections.size() >= lim.max_connections) {
        s.log(who + "limit of " + std::to_string(lim.max_connections) + " connections reached");
        return;
    }
    if (s.connections_by_pid[cred.pid] >= lim.max_connections_per_client) {
        // A client that closed a connection and opened another at once: the hang-up may
        // be waiting in this same round of events. Close such connections before counting
        // (not one with requests still unread: those are handled first, in order).
        std::vector<Connection*> gone;
        for (auto& [cid, c] : s.connections) {
            char byte;
            if (c->pid == cred.pid && recv(c->sock.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
                gone.push_back(c.get()); // end of file: hung up, nothing left unread
        }
        for (Connection* c : gone)
            c->close_connection("");
    }
    uint32_t& of_pid = s.connections_by_pid[cred.pid];
    if (of_pid >= lim.max_connections_per_client) {
        s.log(who + "it already has " + std::to_string(of_pid) + " connections (limit " +
              std::to_string(lim.max_connections_per_client) + " per client process)");
        return;
    }
    if (s.fds_held + 1 > lim.max_fds) {
        if (of_pid == 0)
            s.connections_by_pid.erase(cred.pid);
        s.log(who + "the service's fd budget of " + std::to_string(lim.max_fds) + " is spent");
        return;
    }
    auto conn = std::make_unique<Connection>(s);
    conn->sock = std::move(fd);
    conn->pid = cred.pid;
    if (!s.register_source(conn->sock.get(), EPOLLIN, conn.get(), conn->id)) {
        if (of_pid == 0)
            s.connections_by_pid.erase(cred.pid);
        return;
    }
    of_pid++;
    conn->self.bind(s, 0, 1, 0);
    s.connections[conn->id] = std::move(conn);
}


Result<std::shared_ptr<TimelineObject>> Service::State::new_timeline(bool signaled, UniqueFd& client_end,
                                                                     uint64_t owner)
{
    auto pair = make_socket_pair();
    if (!pair)
        return pair.error();
    auto t = std::make_shared<TimelineObject>(*this, signaled);
    t->end = std::move(pair->first);
    client_end = std::move(pair->second);
    t->file = file_of(client_end.get());
    t->cookie = socket_cookie(client_end.get());
    if (t->cookie == 0)
        return make_error(errno ? errno : EIO, std::string("cannot read the new timeline's socket cookie: ") +
                                                   errno_text(errno));
    auto st = register_source(t->end.get(), 0, t.get(), t->id);
    if (!st)
        return st.error();
    // A fresh socket's (dev, ino) is free unless the inode counter wrapped onto a live
    // timeline's number: the old entry stays (its cookie still guards it) and the new one is
    // refused rather than let one replace the other.
    if (!registry.add(t->file, {ObjectRegistry::Kind::Timeline, t->id, t->cookie})) {
        poller.remove(t->end.get(), t->id);
        return make_error(EAGAIN, "the new timeline's inode number is taken by a live object; try again");
    }
    t->charge.bind(*this, owner, 1, 0);
    timelines[t->id] = t;
    return t;
}

Result<UniqueFd> Service::State::export_fence(core::FenceRef fence, uint64_t owner)
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
    ex->file = file_of(pair->second.get());
    ex->cookie = socket_cookie(pair->second.get());
    auto st = register_source(ex->end.get(), 0, ex.get(), ex->id);
    if (!st)
        return st.error();
    ex->charge.bind(*this, owner, 1, 1);
    uint64_t ex_id = ex->id;
    exports_by_file[ex->file] = ex_id;
    exports[ex_id] = std::move(ex);
    fence->on_resolved([this, ex_id, send_status](int error) {
        auto it = exports.find(ex_id);
        if (it == exports.end())
            return;
        send_status(it->second->end.get(), error);
        retire_export(ex_id);
    });
    return std::move(pair->second);
}

Result<core::FenceRef> Service::State::import_sync_file(UniqueFd fd, const FdInfo& info, Connection& owner)
{
    auto refuse = [&](const std::string& what) {
        return make_error(EINVAL, what + " is not a sync file (a kernel sync_file or a sync file "
                                         "exported by this service)");
    };
    if (info.kind == FdKind::KernelSyncFile) {
        // The /proc link names the anon inode; the ioctl makes sure the kernel agrees.
        sync_file_info probe{};
        if (ioctl(fd.get(), SYNC_IOC_FILE_INFO, &probe) != 0)
            return refuse("an fd whose link says sync_file but which SYNC_IOC_FILE_INFO refuses (" +
                          errno_text(errno) + ")");
        auto budget = owner.check_budget(1, 1);
        if (!budget)
            return budget.error();
        auto watch = std::make_unique<ImportWatch>(*this);
        watch->fd = std::move(fd);
        watch->fence = std::make_shared<core::Fence>();
        auto st = register_source(watch->fd.get(), EPOLLIN, watch.get(), watch->id);
        if (!st)
            return st.error();
        watch->charge.bind(*this, owner.id, 1, 1);
        core::FenceRef fence = watch->fence;
        imports[watch->id] = std::move(watch);
        return fence;
    }
    if (info.kind != FdKind::SeqpacketSocket)
        return refuse(describe_fd(fd.get(), info));
    uint64_t cookie = socket_cookie(fd.get());
    if (registry.match(info, cookie))
        return refuse("a timeline of this service");
    // An export still pending: the same fence, nothing to watch and no fd kept.
    if (auto it = exports_by_file.find(info.id); it != exports_by_file.end()) {
        auto ex = exports.find(it->second);
        if (ex != exports.end() && ex->second->cookie == cookie && cookie != 0)
            return ex->second->fence;
    }
    // An export that resolved: its status message waits in it. Only this service writes into
    // its sockets' client ends, and a socket pair made by another process has that process as
    // its peer: so the message is ours if the peer is this process.
    struct ucred cred {};
    socklen_t len = sizeof cred;
    syncobj_wire_sync_status st{};
    if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid == getpid()) {
        ssize_t n = recv(fd.get(), &st, sizeof st, MSG_PEEK | MSG_DONTWAIT);
        if (n == sizeof st && st.magic == SYNCOBJ_WIRE_SYNC_MAGIC)
            return core::Fence::make_resolved(st.error);
        return refuse("a socket of this service that is neither a timeline nor a live export (an exported "
                      "sync file whose status was already read?)");
    }
    return refuse(describe_fd(fd.get(), info));
}

} // namespace syncway::syncobj
