// Private to service/: the objects the service keeps (timelines, signalers, sync files, waits,
// connections) and its State. service.cpp holds Service itself, service_objects.cpp the objects'
// behaviour, connection.cpp the requests of one connection.
#pragma once

#include "service.hpp"

#include "fd_kind.hpp"
#include "fd_passing.hpp"
#include "handle_table.hpp"
#include "object_registry.hpp"
#include "slab.hpp"
#include "poller.hpp"
#include "wire_request.hpp"

#include <fcntl.h>
#include <linux/sync_file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <vector>


namespace syncway::syncobj {


inline constexpr size_t kMaxFdsPerMessage = 4;
inline constexpr int kMessagesPerWakeup = 64; // fairness between busy connections
// Requests taken by one recvmmsg: a lone request costs one receive call, not a second one
// that only reports EAGAIN.
inline constexpr unsigned kMessagesPerReceive = 8;

// The buffers one recvmmsg fills, set up once per service: the service reads one connection
// at a time, so every connection shares them.
struct ReceiveBatch {
    ReceiveBuffer<SYNCOBJ_WIRE_MAX_MESSAGE, kMaxFdsPerMessage> bufs[kMessagesPerReceive];
    mmsghdr hdrs[kMessagesPerReceive]{};
    ReceiveBatch()
    {
        for (unsigned i = 0; i < kMessagesPerReceive; i++)
            hdrs[i].msg_hdr = bufs[i].msg;
    }
    ReceiveBatch(const ReceiveBatch&) = delete;
    ReceiveBatch& operator=(const ReceiveBatch&) = delete;
    // recvmmsg shrinks msg_controllen to what arrived: give back the room before reuse.
    void rearm(unsigned used)
    {
        for (unsigned i = 0; i < used; i++) {
            hdrs[i].msg_hdr.msg_controllen = sizeof bufs[i].control;
            hdrs[i].msg_hdr.msg_flags = 0;
        }
    }
};

inline std::string errno_text(int e) { return std::string(strerror(e)); }

inline void write_eventfd(int fd, uint64_t value)
{
    // A full counter (a client that never reads) only loses this wake-up; never block.
    ssize_t r = write(fd, &value, sizeof value);
    (void)r;
}

inline Result<std::pair<UniqueFd, UniqueFd>> make_socket_pair()
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

inline FileId file_of(int fd)
{
    struct stat st {};
    return fstat(fd, &st) == 0 ? FileId{st.st_dev, st.st_ino} : FileId{};
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


// ---- objects -------------------------------------------------------------------------------

// What an object the service keeps costs, counted against the connection that made it (its
// fds and pending waits) and against the service's fd budget, for as long as the object lives.
// An object may outlive its connection (a timeline another process still holds): it then
// counts service-wide only.
struct Charge {
    Service::State* s = nullptr;
    uint64_t owner = 0; // connection id; 0: none (service-wide only)
    uint32_t fds = 0;
    uint32_t waits = 0;
    Charge() = default;
    void bind(Service::State& state, uint64_t conn, uint32_t fd_count, uint32_t wait_count); // once
    // Gives the charge back now (the object is finished, even if it is destroyed later).
    void release();
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge() { release(); }
};

// Everything a request reads of an idle timeline, 32 bytes: two share a cache line. These
// live in State::timeline_slab, side by side, apart from the rest of their TimelineObject.
struct alignas(32) TimelineState {
    // Its last client fd closed. Connections' handles may still point here (they keep the
    // object alive, not its fd); to them it is gone, and collect() closes the timeline.
    bool retired = false;
    core::Timeline timeline;
    explicit TimelineState(bool signaled) : timeline(signaled) {}
};
static_assert(sizeof(TimelineState) == 32, "two timeline states per cache line");

struct TimelineObject final : Poller::Source {
    Service::State& s;
    // Shared: a host's reference (Service::find_timeline) may keep this object past the
    // service's State; its state cell must still have somewhere to go back to.
    std::shared_ptr<Slab<TimelineState>> slab;
    TimelineState& hot; // in slab, freed with this object
    uint64_t id = 0;
    UniqueFd end;
    FileId file;        // of the client end
    uint64_t cookie = 0; // SO_COOKIE of the client end
    Charge charge;
    TimelineObject(Service::State& state, bool signaled);
    ~TimelineObject() override;
    TimelineObject(const TimelineObject&) = delete;
    TimelineObject& operator=(const TimelineObject&) = delete;
    void ready(uint32_t events) override;
};

// The service's read end of a signaler pipe; clients hold the write ends. A byte written (or
// SIGNALER_SIGNAL) signals the point; every write end closed before that fails it. Kept after
// the signal until the write ends are gone, so a holder's later write never meets a pipe
// without a reader (SIGPIPE).
struct SignalerObject final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd end;
    FileId file;
    Charge charge;
    core::FenceRef fence;
    bool signaled = false;
    SignalerObject(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
    void signal();
};

// The service's end of an exported sync file: one status message when the point resolves.
struct ExportObject final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    Charge charge;
    UniqueFd end;
    FileId file;         // of the client's end, until the status is sent
    uint64_t cookie = 0; // SO_COOKIE of the client's end
    core::FenceRef fence;
    ExportObject(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

// An imported kernel sync_file that has not resolved yet. (An export of this service imports
// as its fence directly, without keeping the fd.)
struct ImportWatch final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    Charge charge;
    UniqueFd fd;
    core::FenceRef fence;
    ImportWatch(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
};

struct EventfdWait final : core::Waiter {
    Service::State& s;
    uint64_t key = 0;
    Charge charge;
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
    Charge charge;
    // One allocation per request, not one per entry; sized before any entry can resolve, so
    // WAIT_ALL counts against the request's full count.
    std::unique_ptr<Entry[]> entries;
    uint32_t entry_count = 0;

    void entry_resolved(uint32_t index, int err);
};

struct Connection final : Poller::Source {
    Service::State& s;
    uint64_t id = 0;
    UniqueFd sock;
    pid_t pid = 0;
    // What a handle names: a timeline (requests read only its TimelineState, the table's hot
    // part; null for a signaler) or a signaler by id. The cold part keeps the object alive.
    struct HandleRef {
        uint64_t id = 0;
        std::shared_ptr<TimelineObject> timeline;
    };
    HandleTable<TimelineState*, HandleRef> handles;
    // The array request being handled (timelines()): its timelines' states and core
    // timelines, reused from request to request.
    std::vector<TimelineState*> batch_states;
    std::vector<core::Timeline*> batch;
    std::unordered_map<uint32_t, std::unique_ptr<WaitGroup>> waits;
    // Its EVENTFD registrations (keys of State::eventfd_waits): dropped with the connection,
    // since nobody is left to read them.
    std::unordered_set<uint64_t> eventfd_keys;
    // Charges naming this connection.
    uint32_t fds_held = 0;
    uint32_t waits_held = 0;
    Charge self; // the connection's own socket, in the service's fd budget
    // Pending points it added (max_pending_points_per_connection).
    std::shared_ptr<core::PointBudget> points = std::make_shared<core::PointBudget>();
    Connection(Service::State& state) : s(state) {}
    void ready(uint32_t events) override;
    bool reads_state() const noexcept override { return true; }
    // One request already received: answers it. False once the connection has closed.
    bool handle_message(const uint8_t* buf, size_t n, int msg_flags, std::vector<UniqueFd>& fds);
    Reply handle(const WireRequest& req, std::vector<UniqueFd>& fds);
    bool send_reply(uint16_t op, Reply& r);
    Reply truncated_fds_reply(size_t received);
    void close_connection(const std::string& why);

    Result<uint32_t> new_handle(uint64_t object_id, std::shared_ptr<TimelineObject> timeline = nullptr);
    // The live timeline a handle names, or null.
    core::Timeline* timeline(uint32_t handle);
    // Resolves an array request's handles into `batch`, or says which one names nothing.
    Status timelines(const std::vector<uint32_t>& hs);
    // Whether this connection may make something holding `fds` more service fds and `waits`
    // more pending waits; else the limit it would pass, by name and value.
    Status check_budget(uint32_t fds, uint32_t waits);
    // Whether `t` may take one more pending point.
    Status check_pending_points(const core::Timeline& t, uint32_t handle);
    // Whether this connection may add `n` more pending points.
    Status check_points_budget(size_t n);
    core::PointBudget::Token point_token() { return core::PointBudget::take(points); }

    Reply op_create(const WireRequest& req);
    Reply op_import(std::vector<UniqueFd>& fds);
    Reply op_submit(const WireRequest& req, std::vector<UniqueFd>& fds);
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
    // Takes or refuses one accepted connection.
    void admit(UniqueFd fd);
};

struct Service::State {
    Options opt;
    // Set while the service is destroyed: objects going then give nothing back (the
    // connections their charges name may already be gone).
    bool closing = false;
    // Every TimelineObject holds it too (see there).
    std::shared_ptr<Slab<TimelineState>> timeline_slab = std::make_shared<Slab<TimelineState>>();
    Poller poller;
    std::unique_ptr<ReceiveBatch> receive_batch = std::make_unique<ReceiveBatch>();
    UniqueFd listen_fd;
    uint64_t listen_id = 0;
    Listener listener{*this};
    std::string path;
    bool unlink_path = false;
    uid_t uid = getuid();
    // Held in reserve so a connection can still be refused when the process is out of fds.
    UniqueFd spare_fd{open("/dev/null", O_RDONLY | O_CLOEXEC)};

    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections;
    std::unordered_map<uint64_t, std::shared_ptr<TimelineObject>> timelines;
    std::unordered_map<uint64_t, std::unique_ptr<SignalerObject>> signalers;
    std::unordered_map<uint64_t, std::unique_ptr<ExportObject>> exports;
    std::unordered_map<uint64_t, std::unique_ptr<ImportWatch>> imports;
    std::unordered_map<uint64_t, std::unique_ptr<EventfdWait>> eventfd_waits;
    // Client ends of timelines and signalers -> objects.
    ObjectRegistry registry{pipe_filesystem()};
    // Client ends of pending exports -> export ids (an export imported here shares its fence).
    std::unordered_map<FileId, uint64_t, FileIdHash> exports_by_file;
    // Open connections per client process.
    std::unordered_map<pid_t, uint32_t> connections_by_pid;
    // Fds held for clients (Charge), against max_fds (resolved at start: never 0 here).
    uint64_t fds_held = 0;
    uint64_t next_key = 1;

    // Objects finished inside callbacks die here, after the callback stack has unwound.
    std::vector<std::unique_ptr<Poller::Source>> dead_sources;
    std::vector<std::unique_ptr<core::Waiter>> dead_waiters;
    std::vector<std::unique_ptr<WaitGroup>> dead_groups;
    std::vector<std::shared_ptr<TimelineObject>> dead_timelines;

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
        poller.remove_later(fd, id); // the object, and so its fd, lives on in dead_sources
        if constexpr (requires { it->second->charge.release(); })
            it->second->charge.release();
        dead_sources.push_back(std::move(it->second));
        map.erase(it);
    }
    void retire_timeline(TimelineObject& t)
    {
        registry.remove(t.file, t.id);
        auto it = timelines.find(t.id);
        if (it == timelines.end())
            return;
        poller.remove_later(t.end.get(), t.id);
        t.hot.retired = true;
        t.charge.release();
        dead_timelines.push_back(std::move(it->second));
        timelines.erase(it);
    }
    void retire_signaler(SignalerObject& sig)
    {
        registry.remove(sig.file, sig.id);
        retire(signalers, sig.id, sig.end.get());
    }
    void collect()
    {
        // Destroying objects can finish more (a timeline drops its parked waiters).
        while (!dead_sources.empty() || !dead_waiters.empty() || !dead_groups.empty() ||
               !dead_timelines.empty()) {
            poller.flush(); // before the dead sources close the fds it names
            auto timelines_done = std::move(dead_timelines);
            dead_timelines.clear();
            for (auto& t : timelines_done) {
                t->hot.timeline.close(); // drops its parked waiters, as the kernel frees them
                t->end.reset();
            }
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
    Result<std::shared_ptr<TimelineObject>> new_timeline(bool signaled, UniqueFd& client_end, uint64_t owner);
    // The fence a sync file stands for: a kernel sync_file (watched until it signals, holding
    // the fd: `charge` is bound to that watch) or an exported sync file of this service.
    // Anything else is EINVAL, naming what it is.
    Result<core::FenceRef> import_sync_file(UniqueFd fd, const FdInfo& info, Connection& owner);
    Result<UniqueFd> export_fence(core::FenceRef fence, uint64_t owner);
    void retire_export(uint64_t id);
};

} // namespace syncway::syncobj
