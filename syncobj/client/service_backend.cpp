#include "service_backend.hpp"

#include "../service/fd_passing.hpp"

#include <syncobj/timeline_host.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

namespace syncway::syncobj {

namespace {

constexpr uint32_t kKnownWaitFlags = SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT |
                                     SYNCOBJ_WAIT_AVAILABLE | SYNCOBJ_WAIT_DEADLINE;

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

template <typename T> syncobj_wire_header header_for(uint16_t op)
{
    syncobj_wire_header h{};
    h.op = op;
    return h;
}

} // namespace

std::string ServiceBackend::default_path()
{
    if (const char* env = getenv(kSocketEnv); env && *env)
        return env;
    if (const char* dir = getenv("XDG_RUNTIME_DIR"); dir && *dir)
        return std::string(dir) + "/syncobjd.sock";
    return {};
}

Result<std::unique_ptr<ServiceBackend>> ServiceBackend::connect(std::string path, bool trust_fd_cache)
{
    if (path.empty())
        path = default_path();
    if (path.empty())
        return make_error(ENODEV, std::string("no service socket: neither $") + kSocketEnv +
                                      " nor $XDG_RUNTIME_DIR is set");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return make_error(ENAMETOOLONG, "service socket path \"" + path + "\" is too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd)
        return make_error(errno, std::string("socket failed: ") + strerror(errno));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return make_error(ENODEV, "cannot reach the syncobj service at \"" + path + "\": " + strerror(errno) +
                                      " (is syncobjd running? set $" + kSocketEnv + ")");
    return std::unique_ptr<ServiceBackend>(new ServiceBackend(std::move(fd), trust_fd_cache));
}

int ServiceBackend::send_only(const void* req, size_t len, int send_fd)
{
    // A signal written into a signaler's pipe reaches the service on another fd than this
    // socket, which it may read later than what follows here. Repeating it on the socket first
    // keeps this device's requests after its signals (the service ignores the second signal).
    if (!unflushed_signals_.empty()) {
        for (uint32_t h : unflushed_signals_) {
            syncobj_wire_handle sig{header_for<syncobj_wire_handle>(SYNCOBJ_OP_SIGNALER_SIGNAL), h};
            while (send(sock_.get(), &sig, sizeof sig, MSG_NOSIGNAL) < 0 && errno == EINTR) {
            }
        }
        unflushed_signals_.clear();
    }
    iovec iov{const_cast<void*>(req), len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    OneFdControl control;
    if (send_fd >= 0)
        attach_fd(msg, control, send_fd);
    for (;;) {
        if (sendmsg(sock_.get(), &msg, MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        int e = errno;
        return fail(e == EPIPE || e == ECONNRESET ? EPIPE : e,
                    std::string("cannot send to the syncobj service: ") + strerror(e));
    }
}

int ServiceBackend::call(const void* req, size_t len, int send_fd, Answer* answer)
{
    if (int r = send_only(req, len, send_fd))
        return r;
    if (!answer)
        return 0;
    ReceiveBuffer<SYNCOBJ_WIRE_MAX_MESSAGE, 4> rb;
    uint8_t* buf = rb.data;
    msghdr& msg = rb.msg;
    ssize_t n;
    do
        n = recvmsg(sock_.get(), &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n >= 0) {
        auto fds = take_fds(msg); // replies carry at most one; extras close here
        if (!fds.empty())
            answer->fd = std::move(fds[0]);
    }
    if (n <= 0)
        return fail(EPIPE, n == 0 ? "the syncobj service closed the connection"
                                  : std::string("cannot read from the syncobj service: ") + strerror(errno));
    if (static_cast<size_t>(n) < sizeof answer->reply)
        return fail(EPROTO, "short reply from the syncobj service");
    std::memcpy(&answer->reply, buf, sizeof answer->reply);
    size_t rest = static_cast<size_t>(n) - sizeof answer->reply;
    if (answer->reply.error) {
        std::string text(reinterpret_cast<char*>(buf + sizeof answer->reply), rest ? strnlen(reinterpret_cast<char*>(buf + sizeof answer->reply), rest) : 0);
        return fail(answer->reply.error, text.empty() ? strerror(answer->reply.error) : text);
    }
    answer->payload.resize(rest / sizeof(uint64_t));
    if (!answer->payload.empty())
        std::memcpy(answer->payload.data(), buf + sizeof answer->reply, answer->payload.size() * sizeof(uint64_t));
    return 0;
}

namespace {
// The identity of a timeline or signaler fd (an fd number can be closed and reused for another
// file). A timeline is a socket: its cookie, unique for the life of the system; one getsockopt
// is the cheapest check there is (fstat costs 2-3x more). A signaler is a pipe's write end:
// its device and inode, marked so that it never equals a cookie (the inode number alone would
// let a FIFO on another file system pass for a cached pipe). 0: neither; the service will say
// what it is.
constexpr uint64_t kPipeIdentity = uint64_t{1} << 63;
int pipe_identity(int fd, uint64_t& id)
{
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return -errno;
    uint64_t file = (static_cast<uint64_t>(st.st_dev) << 40) ^ static_cast<uint64_t>(st.st_ino);
    id = S_ISFIFO(st.st_mode) ? kPipeIdentity | (file & ~kPipeIdentity) : 0;
    return 0;
}
// likely_pipe: the number named a signaler when last seen, so one fstat most likely settles it.
int fd_identity(int fd, uint64_t& id, bool likely_pipe = false)
{
    socklen_t len = sizeof id;
    if (fd < 0)
        return -EBADF;
    if (likely_pipe && pipe_identity(fd, id) == 0 && id)
        return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &id, &len) == 0)
        return 0;
    if (errno != ENOTSOCK)
        return -errno;
    return pipe_identity(fd, id);
}
} // namespace

void ServiceBackend::remember(int fd, uint32_t handle)
{
    uint64_t cookie = 0;
    if (fd_identity(fd, cookie) != 0 || cookie == 0)
        return;
    if (static_cast<size_t>(fd) >= cache_.size()) {
        cache_.resize(static_cast<size_t>(fd) + 64);
        handle_by_fd_.resize(cache_.size());
    }
    cache_[fd] = CacheEntry{cookie};
    handle_by_fd_[fd] = handle;
}

void ServiceBackend::forget(int fd)
{
    cache_[fd] = CacheEntry{};
    handle_by_fd_[fd] = 0;
    signaler_readers_.erase(fd);
}

int ServiceBackend::handle_for(int fd, uint32_t& handle)
{
    // The caller closes these fds through close_fd (SYNCOBJ_OPEN_CACHE_FD_IDENTITY), which
    // clears the entry: a cached number still names the file it named when cached.
    if (trust_fd_cache_ && fd >= 0 && static_cast<size_t>(fd) < handle_by_fd_.size() && handle_by_fd_[fd]) {
        handle = handle_by_fd_[fd];
        return 0;
    }
    uint64_t cookie = 0;
    bool cached = fd >= 0 && static_cast<size_t>(fd) < cache_.size() && handle_by_fd_[fd];
    if (fd_identity(fd, cookie, cached && (cache_[fd].cookie & kPipeIdentity)) != 0)
        return fail(EBADF, "fd " + std::to_string(fd) + " is not an open file descriptor");
    if (static_cast<size_t>(fd) < cache_.size() && handle_by_fd_[fd]) {
        if (cookie && cache_[fd].cookie == cookie) {
            handle = handle_by_fd_[fd];
            return 0;
        }
        // The fd number now names another file: the old handle is of no use to anyone.
        syncobj_wire_handle close_req{header_for<syncobj_wire_handle>(SYNCOBJ_OP_CLOSE_HANDLE), handle_by_fd_[fd]};
        send_only(&close_req, sizeof close_req, -1);
        forget(fd);
    }
    syncobj_wire_header req = header_for<syncobj_wire_header>(SYNCOBJ_OP_IMPORT);
    Answer a;
    if (int r = call(&req, sizeof req, fd, &a))
        return r;
    handle = a.reply.aux;
    remember(fd, handle);
    return 0;
}

int ServiceBackend::handles_for(const int* fds, uint32_t count, std::vector<uint32_t>& out)
{
    if (count == 0)
        return fail(EINVAL, "count is 0");
    if (count > SYNCOBJ_WIRE_MAX_COUNT)
        return fail(EINVAL, "count " + std::to_string(count) + " exceeds the service limit of " +
                                std::to_string(SYNCOBJ_WIRE_MAX_COUNT));
    if (!fds)
        return fail(EFAULT, "fds is NULL");
    out.resize(count);
    for (uint32_t i = 0; i < count; i++) {
        int fd = fds[i];
        // The trusted cache's hit, inline: an array op's whole client-side cost per entry.
        if (trust_fd_cache_ && fd >= 0 && static_cast<size_t>(fd) < handle_by_fd_.size() && handle_by_fd_[fd]) {
            out[i] = handle_by_fd_[fd];
            continue;
        }
        if (int r = handle_for(fd, out[i]))
            return r;
    }
    return 0;
}

int ServiceBackend::create(uint32_t flags, int* fd)
{
    if (!fd)
        return fail(EFAULT, "timeline_fd is NULL");
    syncobj_wire_create req{header_for<syncobj_wire_create>(SYNCOBJ_OP_CREATE), flags};
    std::lock_guard lock(mu_);
    Answer a;
    if (int r = call(&req, sizeof req, -1, &a))
        return r;
    if (!a.fd)
        return fail(EPROTO, "the service sent no timeline fd");
    remember(a.fd.get(), a.reply.aux);
    *fd = a.fd.release();
    return 0;
}

int ServiceBackend::array_op(uint16_t op, const int* fds, const uint64_t* points, uint32_t count,
                             uint32_t flags, Answer* answer)
{
    std::lock_guard lock(mu_);
    std::vector<uint32_t>& handles = handles_scratch_;
    if (int r = handles_for(fds, count, handles))
        return r;
    bool with_points = op == SYNCOBJ_OP_SIGNAL;
    std::vector<uint8_t>& msg = msg_scratch_;
    msg.resize(sizeof(syncobj_wire_array) + count * sizeof(uint32_t) +
               (with_points ? count * sizeof(uint64_t) : 0));
    syncobj_wire_array head{header_for<syncobj_wire_array>(op), flags, count, 0};
    std::memcpy(msg.data(), &head, sizeof head);
    size_t off = sizeof head;
    if (with_points) {
        for (uint32_t i = 0; i < count; i++) {
            uint64_t p = points ? points[i] : 0;
            std::memcpy(msg.data() + off + i * sizeof p, &p, sizeof p);
        }
        off += count * sizeof(uint64_t);
    }
    std::memcpy(msg.data() + off, handles.data(), count * sizeof(uint32_t));
    return call(msg.data(), msg.size(), -1, answer);
}

int ServiceBackend::reset(const int* fds, uint32_t count)
{
    Answer a;
    return array_op(SYNCOBJ_OP_RESET, fds, nullptr, count, 0, &a);
}

int ServiceBackend::signal(const int* fds, const uint64_t* points, uint32_t count)
{
    Answer a;
    return array_op(SYNCOBJ_OP_SIGNAL, fds, points, count, 0, &a);
}

int ServiceBackend::query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags)
{
    if (!points)
        return fail(EFAULT, "points is NULL");
    Answer a;
    if (int r = array_op(SYNCOBJ_OP_QUERY, fds, nullptr, count, flags, &a))
        return r;
    if (a.payload.size() != count)
        return fail(EPROTO, "the service answered a query with the wrong number of points");
    std::memcpy(points, a.payload.data(), count * sizeof(uint64_t));
    return 0;
}

int ServiceBackend::wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
                         uint32_t flags, uint32_t* first)
{
    if (flags & ~kKnownWaitFlags)
        return fail(EINVAL, "unknown wait flags");
    if (!points)
        return fail(EFAULT, "points is NULL");
    bool poll_only = timeout_nsec <= now_ns();
    UniqueFd efd;
    if (!poll_only) {
        efd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!efd)
            return fail(errno, std::string("eventfd failed: ") + strerror(errno));
    }
    uint32_t wait_id = next_wait_id_++;
    {
        std::lock_guard lock(mu_);
        std::vector<uint32_t>& handles = handles_scratch_;
        if (int r = handles_for(fds, count, handles))
            return r;
        uint32_t wire_flags = flags | (poll_only ? SYNCOBJ_WIRE_WAIT_POLL_ONLY : 0);
        syncobj_wire_wait head{header_for<syncobj_wire_wait>(SYNCOBJ_OP_WAIT), wire_flags, count, wait_id};
        std::vector<uint8_t>& msg = msg_scratch_;
        msg.resize(sizeof head + count * (sizeof(uint64_t) + sizeof(uint32_t)));
        std::memcpy(msg.data(), &head, sizeof head);
        std::memcpy(msg.data() + sizeof head, points, count * sizeof(uint64_t));
        std::memcpy(msg.data() + sizeof head + count * sizeof(uint64_t), handles.data(), count * sizeof(uint32_t));
        Answer a;
        if (int r = call(msg.data(), msg.size(), efd.get(), &a))
            return r;
        if (a.reply.value == 1) {
            if (first)
                *first = a.reply.aux;
            return 0;
        }
    }
    // Registered: the service adds to the eventfd when done. Block here, not on the socket,
    // so other threads keep using the connection.
    for (;;) {
        int timeout_ms = -1;
        if (timeout_nsec != INT64_MAX) {
            int64_t left = timeout_nsec - now_ns();
            timeout_ms = left <= 0 ? 0 : static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, INT_MAX));
        }
        pollfd p{efd.get(), POLLIN, 0};
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 1) {
            uint64_t v = 0;
            if (read(efd.get(), &v, sizeof v) != sizeof v)
                continue;
            uint32_t index = static_cast<uint32_t>(v & 0xffffffffu) - 1;
            int error = static_cast<int>((v >> 32) & 0xffff);
            if (first)
                *first = index;
            if (error)
                return fail(error, "point " + std::to_string(points[index < count ? index : 0]) +
                                       " failed: " + strerror(error));
            return 0;
        }
        if (timeout_nsec != INT64_MAX && now_ns() >= timeout_nsec)
            break;
    }
    syncobj_wire_cancel cancel{header_for<syncobj_wire_cancel>(SYNCOBJ_OP_CANCEL_WAIT), wait_id};
    send_only(&cancel, sizeof cancel, -1);
    return fail(ETIME, "timed out");
}

int ServiceBackend::transfer(int dst, uint64_t dst_point, int src, uint64_t src_point, uint32_t flags)
{
    std::lock_guard lock(mu_);
    uint32_t hs = 0, hd = 0;
    if (int r = handle_for(src, hs))
        return r;
    if (int r = handle_for(dst, hd))
        return r;
    syncobj_wire_transfer req{header_for<syncobj_wire_transfer>(SYNCOBJ_OP_TRANSFER), hs, hd, flags, src_point, dst_point};
    Answer a;
    return call(&req, sizeof req, -1, &a);
}

int ServiceBackend::eventfd(int fd, uint64_t point, int event_fd, uint32_t flags)
{
    std::lock_guard lock(mu_);
    uint32_t h = 0;
    if (int r = handle_for(fd, h))
        return r;
    struct stat st {};
    if (event_fd < 0 || fstat(event_fd, &st) != 0)
        return fail(EBADF, "eventfd " + std::to_string(event_fd) + " is not an open file descriptor");
    syncobj_wire_eventfd req{header_for<syncobj_wire_eventfd>(SYNCOBJ_OP_EVENTFD), h, point, flags, 0};
    Answer a;
    return call(&req, sizeof req, event_fd, &a);
}

int ServiceBackend::export_sync_file(int fd, uint64_t point, int* sync_file)
{
    if (!sync_file)
        return fail(EFAULT, "sync_file is NULL");
    std::lock_guard lock(mu_);
    uint32_t h = 0;
    if (int r = handle_for(fd, h))
        return r;
    syncobj_wire_point req{header_for<syncobj_wire_point>(SYNCOBJ_OP_EXPORT_SYNC_FILE), h, point};
    Answer a;
    if (int r = call(&req, sizeof req, -1, &a))
        return r;
    if (!a.fd)
        return fail(EPROTO, "the service sent no sync file");
    *sync_file = a.fd.release();
    return 0;
}

int ServiceBackend::import_sync_file(int fd, uint64_t point, int sync_file)
{
    std::lock_guard lock(mu_);
    uint32_t h = 0;
    if (int r = handle_for(fd, h))
        return r;
    struct stat st {};
    if (sync_file < 0 || fstat(sync_file, &st) != 0)
        return fail(EBADF, "sync file " + std::to_string(sync_file) + " is not an open file descriptor");
    syncobj_wire_point req{header_for<syncobj_wire_point>(SYNCOBJ_OP_IMPORT_SYNC_FILE), h, point};
    Answer a;
    return call(&req, sizeof req, sync_file, &a);
}

int ServiceBackend::submit(int fd, uint64_t point, int* signaler)
{
    if (!signaler)
        return fail(EFAULT, "signaler_fd is NULL");
    std::lock_guard lock(mu_);
    uint32_t h = 0;
    if (int r = handle_for(fd, h))
        return r;
    // The signaler is the write end of a pipe whose read end the service watches: signaling is
    // one write() (no message for the service to parse), and when every write end is closed
    // without a byte the service sees the holder died.
    int ends[2];
    if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0)
        return fail(errno, std::string("cannot make a signaler pipe: ") + strerror(errno));
    UniqueFd reader(ends[0]), writer(ends[1]);
    // A byte through the new pipe before the service sees it: the pipe keeps the page its
    // buffer used, so the signal's write later finds one instead of allocating it (measured:
    // the signal path otherwise pays a page allocation).
    char warm = 0;
    if (write(writer.get(), &warm, 1) != 1 || read(reader.get(), &warm, 1) != 1)
        return fail(EIO, std::string("cannot prime the signaler pipe: ") + strerror(errno));
    syncobj_wire_point req{header_for<syncobj_wire_point>(SYNCOBJ_OP_SUBMIT), h, point};
    Answer a;
    if (int r = call(&req, sizeof req, reader.get(), &a))
        return r;
    remember(writer.get(), a.reply.aux);
    // Our copy of the read end: while it is open a write never meets a pipe without readers,
    // so a holder signaling after the service went away gets no SIGPIPE.
    signaler_readers_[writer.get()] = std::move(reader);
    *signaler = writer.release();
    return 0;
}

int ServiceBackend::signaler_signal(int signaler)
{
    {
        uint32_t h = 0;
        std::lock_guard lock(mu_);
        if (int r = handle_for(signaler, h)) // the service names anything that is not one of its signalers
            return r;
        if (static_cast<size_t>(signaler) >= cache_.size() || !(cache_[signaler].cookie & kPipeIdentity))
            return fail(EINVAL, "fd " + std::to_string(signaler) + " is a timeline, not a signaler");
        // A signaler signaled again before any request needs repeating once: a caller that
        // signals the same signaler over and over with no other request keeps one entry.
        if (unflushed_signals_.empty() || unflushed_signals_.back() != h)
            unflushed_signals_.push_back(h);
    }
    static constexpr char kSignal = 1;
    ssize_t n;
    do
        n = write(signaler, &kSignal, 1);
    while (n < 0 && errno == EINTR);
    // EAGAIN: the pipe is full of earlier signals the service has not read yet; one more
    // changes nothing.
    if (n == 1 || errno == EAGAIN)
        return 0;
    int e = errno;
    return fail(e, "cannot signal through signaler fd " + std::to_string(signaler) + ": " + strerror(e) +
                       (e == EPIPE ? " (the syncobj service is gone)" : ""));
}

int ServiceBackend::close_fd(int fd)
{
    {
        std::lock_guard lock(mu_);
        if (fd >= 0 && static_cast<size_t>(fd) < cache_.size()) {
            if (handle_by_fd_[fd]) {
                syncobj_wire_handle req{header_for<syncobj_wire_handle>(SYNCOBJ_OP_CLOSE_HANDLE), handle_by_fd_[fd]};
                send_only(&req, sizeof req, -1); // a dead service has no handle to drop
            }
            forget(fd);
        }
    }
    return Backend::close_fd(fd);
}

int ServiceBackend::point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error)
{
    if (!state)
        return fail(EFAULT, "state is NULL");
    std::lock_guard lock(mu_);
    uint32_t h = 0;
    if (int r = handle_for(fd, h))
        return r;
    syncobj_wire_point req{header_for<syncobj_wire_point>(SYNCOBJ_OP_POINT_STATE), h, point};
    Answer a;
    if (int r = call(&req, sizeof req, -1, &a))
        return r;
    *state = static_cast<enum syncobj_point_state>(a.reply.aux);
    if (error)
        *error = static_cast<int>(a.reply.value);
    return 0;
}

} // namespace syncway::syncobj
