#include "service_state.hpp"

namespace syncway::syncobj {

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
    state_->closing = true;
    // A host may hold a timeline past the service (its HostedTimeline shares the object):
    // that object must not give its charge back to a State that is gone by then.
    for (auto& [id, t] : state_->timelines)
        t->charge.release();
}

static Result<std::unique_ptr<Service>> start(UniqueFd listener, std::string path, bool unlink_path,
                                              Service::Options options,
                                              std::unique_ptr<Service::State> state)
{
    state->opt = std::move(options);
    if (state->opt.limits.max_fds == 0) {
        // Half the soft limit: a process embedding the service keeps the other half.
        rlimit rl{};
        uint64_t soft = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
        if (soft == RLIM_INFINITY || soft > 2ull * UINT32_MAX)
            soft = 2ull * UINT32_MAX;
        state->opt.limits.max_fds = static_cast<uint32_t>(std::max<uint64_t>(soft / 2, 1));
    }
    if (state->registry.pipefs_dev() == 0)
        return make_error(errno ? errno : EIO, std::string("cannot make a pipe to learn pipefs's device: ") +
                                                   errno_text(errno));
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

void Service::dispatch(int timeout_ms, const std::function<void()>& act)
{
    state_->poller.run_once(timeout_ms);
    if (act)
        act();
    state_->collect();
}

const std::string& Service::path() const noexcept { return state_->path; }

std::shared_ptr<core::Timeline> Service::find_timeline(int fd) const
{
    FdInfo info = inspect_fd(fd, state_->registry.pipefs_dev());
    const ObjectRegistry::Entry* e = state_->registry.match(info, socket_cookie(fd));
    if (!e || e->kind != ObjectRegistry::Kind::Timeline)
        return nullptr;
    auto t = state_->timelines.find(e->id);
    if (t == state_->timelines.end())
        return nullptr;
    // Shares the object's ownership: the host keeps a dup of the timeline's fd as long as it
    // holds this, so the object cannot retire meanwhile.
    return std::shared_ptr<core::Timeline>(t->second, &t->second->hot.timeline);
}

const ServiceLimits& Service::limits() const noexcept { return state_->opt.limits; }
uint64_t Service::fds_held() const noexcept { return state_->fds_held; }

size_t Service::connection_count() const noexcept { return state_->connections.size(); }
size_t Service::timeline_count() const noexcept { return state_->timelines.size(); }
size_t Service::pending_object_count() const noexcept
{
    return state_->signalers.size() + state_->exports.size() + state_->imports.size() +
           state_->eventfd_waits.size();
}

} // namespace syncway::syncobj
