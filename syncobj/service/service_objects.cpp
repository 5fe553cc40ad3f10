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

void OwnerSlot::bind(Service::State& state, uint64_t conn)
{
    s = &state;
    owner = conn;
    auto it = s->connections.find(owner);
    if (it != s->connections.end())
        it->second->detached_waits++;
}

void OwnerSlot::release()
{
    if (!s)
        return;
    auto it = s->connections.find(owner);
    if (it != s->connections.end() && it->second->detached_waits > 0)
        it->second->detached_waits--;
    s = nullptr;
}

void EventfdWait::dropped()
{
    slot.release();
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


Result<std::shared_ptr<TimelineObject>> Service::State::new_timeline(bool signaled, UniqueFd& client_end)
{
    auto pair = make_socket_pair();
    if (!pair)
        return pair.error();
    auto t = std::make_shared<TimelineObject>(*this, signaled);
    t->end = std::move(pair->first);
    client_end = std::move(pair->second);
    t->ino = inode_of(client_end.get());
    auto st = register_source(t->end.get(), 0, t.get(), t->id);
    if (!st)
        return st.error();
    by_ino[t->ino] = t->id;
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
    ex->slot.bind(*this, owner);
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

Result<core::FenceRef> Service::State::import_sync_file(UniqueFd fd, const FdInfo& info, uint64_t owner)
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
    watch->slot.bind(*this, owner);
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

} // namespace syncway::syncobj
