// The compositor-facing API: a syncobj service embedded in the host's own single-threaded event
// loop, plus the operations a compositor needs on timelines its clients hand it
// (linux-drm-syncobj-v1). Nothing here ever blocks: every call is a function call on in-process
// state or a non-blocking ioctl, so the host cannot deadlock against its own service.
//
// Use (one thread, the host's event loop):
//   auto host = TimelineHost::create({});                  // listens on host->socket_path()
//   setenv(kSocketEnv, host->socket_path().c_str(), 1);    // for the clients the host starts
//   loop.add_fd(host->fd(), POLLIN, [&] { host->dispatch(); });
//   auto tl   = host->import_timeline(client_fd);          // fd from import_timeline request
//   auto wait = tl.value()->wait(acquire_point);           // eventfd, readable once
//   loop.add_fd(wait->fd(), POLLIN, ...);                  // then tl->query(point) for errors
//   tl.value()->signal(release_point);                     // CPU signal of a release point
//
// Lifetimes: HostedTimeline and PointWait must be destroyed before their TimelineHost.
// Destroying a PointWait cancels it (its eventfd is never written afterwards). Destroying a
// HostedTimeline drops the host's reference; the timeline itself lives on while any process
// holds its fd, and points already set through it stay valid for waits still held.
#pragma once

#include <syncobj/service_limits.hpp>
#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace syncway::syncobj {

// Clients find the service through this variable (a filesystem path of a Unix socket).
inline constexpr const char* kSocketEnv = "SYNCWAY_SYNCOBJ_SOCKET";
// Forces a backend in clients: "auto" (default), "syncobj-dev", "drm", "service".
inline constexpr const char* kBackendEnv = "SYNCWAY_SYNCOBJ_BACKEND";

enum class PointState {
    Unsubmitted, // no fence at or after this point yet
    Pending,     // submitted (available), not signaled yet
    Signaled,    // signaled successfully
    Failed,      // resolved with an error (e.g. its signaler died): PointStatus::error
};

struct PointStatus {
    PointState state = PointState::Unsubmitted;
    int error = 0; // errno value when state == Failed (EOWNERDEAD: the signaler went away)
};

enum class TimelineKind {
    Service,       // a timeline of this (embedded) userspace service
    DrmSyncobj,    // a kernel syncobj fd (anon_inode:syncobj_file), via /dev/syncobj or a DRM render node
};

enum class WaitFor {
    Signaled,  // fire when the point is signaled or fails (implies waiting for submission)
    Available, // fire when a fence exists for the point (kernel WAIT_AVAILABLE)
};

struct HostOptions {
    // Empty: $XDG_RUNTIME_DIR/syncway-syncobj-<pid>.sock. An existing socket file is replaced.
    std::string socket_path;
    // The embedded service's per-client limits and fd budget (service_limits.hpp). With
    // limits.max_fds == 0 the budget is half the soft RLIMIT_NOFILE at create(): raise the
    // soft limit before. Fds the host itself keeps (one per HostedTimeline, its PointWaits'
    // eventfds) are outside this budget.
    ServiceLimits limits;
    // Open a kernel device (if any) so kernel syncobj fds from clients can be imported: the
    // /dev/syncobj device first (no handles, no DRM device), else a DRM render node.
    bool import_kernel_timelines = true;
    // false: only a DRM render node (never /dev/syncobj).
    bool kernel_via_syncobj_dev = true;
};

// A one-shot wait: fd() is an eventfd that becomes readable exactly once, when the point is
// signaled or fails (then HostedTimeline::query tells which). Move-only; destroying it cancels.
class PointWait {
public:
    struct Impl;
    PointWait() noexcept;
    explicit PointWait(std::unique_ptr<Impl> impl) noexcept;
    PointWait(PointWait&&) noexcept;
    PointWait& operator=(PointWait&&) noexcept;
    ~PointWait();

    int fd() const noexcept;
    // True once the point resolved. Does not read the eventfd. Inside TimelineHost::dispatch's
    // `act` a service wait can be fired before its eventfd is written (see there).
    bool fired() const noexcept;

private:
    std::unique_ptr<Impl> impl_;
};

// A timeline imported from a client. Shared by everything in the host that refers to it.
class HostedTimeline {
public:
    struct Impl;
    explicit HostedTimeline(std::unique_ptr<Impl> impl) noexcept;
    ~HostedTimeline();
    HostedTimeline(const HostedTimeline&) = delete;
    HostedTimeline& operator=(const HostedTimeline&) = delete;

    TimelineKind kind() const noexcept;
    // A one-shot eventfd for `point`. Fires at once if already true. Never fails for a valid
    // timeline except on resource exhaustion (EMFILE, ENOMEM).
    Result<PointWait> wait(uint64_t point, WaitFor what = WaitFor::Signaled);
    // Non-blocking state of one point.
    Result<PointStatus> query(uint64_t point) const;
    // Last point signaled in order (kernel QUERY), or the last submitted one.
    Result<uint64_t> last_signaled() const;
    Result<uint64_t> last_submitted() const;
    // CPU signal of `point` (kernel TIMELINE_SIGNAL; 0 = binary signal).
    Status signal(uint64_t point);

private:
    std::unique_ptr<Impl> impl_;
};

class TimelineHost {
public:
    struct Impl;
    // Binds and listens on the socket; EADDRINUSE if another live service owns the path.
    static Result<std::unique_ptr<TimelineHost>> create(HostOptions options = {});
    ~TimelineHost(); // closes every connection, unlinks the socket path
    TimelineHost(const TimelineHost&) = delete;
    TimelineHost& operator=(const TimelineHost&) = delete;

    // An fd to add to the host's event loop (POLLIN); call dispatch() when readable.
    int fd() const noexcept;
    // Handles everything ready now: connections, requests, signals, sync_file fds. Never blocks.
    void dispatch();
    // The same, calling `act` once the requests are handled but before the objects they
    // finished are torn down (an epoll_ctl and a close each): a host that reacts to the waits
    // this dispatch resolved (PointWait::fired) does so without waiting for that cleanup.
    // `act` must not throw; it may use this host (not dispatch it again).
    // The eventfds of the service waits that resolve during this call are written only after
    // `act` returns, and only for the waits still alive then: a wait `act` takes (fired()) and
    // destroys costs no eventfd write and no loop wake-up. Kernel waits are written by the
    // kernel as always.
    void dispatch(const std::function<void()>& act);
    const std::string& socket_path() const noexcept;

    // Imports a timeline fd received from a client (the fd is duplicated; the caller keeps and
    // closes its own). Accepts timelines of this service, and kernel syncobj fds when
    // /dev/syncobj or a DRM render node is available. Anything else fails with EINVAL and a message naming what the
    // fd is (pipe, memfd, eventfd, a timeline of another service, a dead timeline, ...).
    Result<std::shared_ptr<HostedTimeline>> import_timeline(int fd);

    // Whether kernel syncobj fds can be imported, and through which device (empty if not).
    const std::string& kernel_device() const noexcept;

private:
    explicit TimelineHost(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

} // namespace syncway::syncobj
