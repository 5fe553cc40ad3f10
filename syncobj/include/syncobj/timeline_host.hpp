// The compositor-facing API: a syncobj service embedded in the host's own single-threaded event
// loop, plus the operations a compositor needs on timelines its clients hand it
// (linux-drm-syncobj-v1), whatever they are: timelines of that service or kernel syncobj fds.
// Nothing here blocks the host: every call is a function call on in-process state or a
// non-blocking ioctl, so the host cannot deadlock against its own service. (Kernel points on a
// kernel without DRM_IOCTL_SYNCOBJ_EVENTFD are waited for by one thread of the host's, which
// only ever writes the waits' eventfds.)
//
// Use (one thread, the host's event loop):
//   HostOptions opt;
//   opt.socket_path = runtime_dir + "/syncway-syncobj-<pid>.sock";
//   auto host = TimelineHost::create(opt);                 // listens on host->socket_path()
//   // hand host->socket_path() to the clients the host starts ($SYNCWAY_SYNCOBJ_SOCKET)
//   if (host->fd() >= 0) loop.add_fd(host->fd(), POLLIN, [&] { host->dispatch(); });
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

#include <syncobj/point_state.hpp>
#include <syncobj/service_limits.hpp>
#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace syncway::syncobj {

// Clients find the service through this variable (a filesystem path of a Unix socket). The
// library never reads it on the host's side: the host passes socket_path() to its children.
inline constexpr const char* kSocketEnv = "SYNCWAY_SYNCOBJ_SOCKET";
// Forces a backend in clients: "auto" (default), "syncobj-dev", "drm", "service".
inline constexpr const char* kBackendEnv = "SYNCWAY_SYNCOBJ_BACKEND";

struct HostOptions {
    // Run the embedded userspace service (timelines for clients on machines with no kernel
    // syncobjs). false: the host takes kernel syncobj fds only: no socket is made, fd() is -1,
    // socket_path() is empty, and importing a service timeline fails with EINVAL.
    bool run_service = true;
    // Where the service listens; required when run_service (EINVAL naming this field when
    // empty). An existing socket file no live service owns is replaced.
    std::string socket_path;
    // The embedded service's per-client limits and fd budget (service_limits.hpp). With
    // limits.max_fds == 0 the budget is half the soft RLIMIT_NOFILE at create(): raise the
    // soft limit before. Fds the host itself keeps (one per HostedTimeline, its PointWaits'
    // eventfds) are outside this budget.
    ServiceLimits limits;
    // Open a kernel device (if any) so kernel syncobj fds from clients can be imported: the
    // /dev/syncobj device first (no handles, no DRM device), else the first DRM render node with
    // timeline syncobjs (with or without DRM_IOCTL_SYNCOBJ_EVENTFD).
    bool import_kernel_timelines = true;
    // false: only a DRM render node (never /dev/syncobj).
    bool kernel_via_syncobj_dev = true;
    // The /dev/syncobj device node; empty: /dev/syncobj. (The host reads no environment: a
    // compositor passes what its user configured.)
    std::string syncobj_dev_path;
};

// A one-shot wait: fd() is an eventfd that becomes readable exactly once, when the point is
// signaled or fails (then HostedTimeline::query tells which); a wait for a point of a timeline
// that died before the point was submitted fires too. Move-only; destroying it cancels.
class PointWait {
public:
    class Impl; // one per kind of timeline, inside the library
    PointWait() noexcept;
    explicit PointWait(std::unique_ptr<Impl> impl) noexcept;
    PointWait(PointWait&&) noexcept;
    PointWait& operator=(PointWait&&) noexcept;
    ~PointWait();

    int fd() const noexcept;
    // True once the point resolved, for every kind of timeline. Does not read the eventfd (for
    // kernel points it polls it, one syscall). Inside TimelineHost::dispatch's `act` a service
    // wait is fired before its eventfd is written (see there).
    bool fired() const noexcept;

private:
    std::unique_ptr<Impl> impl_;
};

// A timeline imported from a client. Shared by everything in the host that refers to it.
// Abstract: the library implements it for each kind of timeline, and nothing outside needs to
// know which one it holds.
class HostedTimeline {
public:
    virtual ~HostedTimeline();
    HostedTimeline(const HostedTimeline&) = delete;
    HostedTimeline& operator=(const HostedTimeline&) = delete;

    // A one-shot eventfd for `point`, fired when it is signaled or fails (waiting for its
    // submission first). Fires at once if already so. Never fails for a valid timeline except
    // on resource exhaustion (EMFILE, ENOMEM).
    virtual Result<PointWait> wait(uint64_t point) = 0;
    // Non-blocking state of one point (0: the timeline's current fence, e.g. a binary syncobj's).
    virtual Result<PointStatus> query(uint64_t point) const = 0;
    // Last point signaled in order (kernel QUERY), or the last submitted one.
    virtual Result<uint64_t> last_signaled() const = 0;
    virtual Result<uint64_t> last_submitted() const = 0;
    // CPU signal of `point` (kernel TIMELINE_SIGNAL; 0 = binary signal).
    virtual Status signal(uint64_t point) = 0;

protected:
    HostedTimeline() = default;
};

class TimelineHost {
public:
    struct Impl;
    // Binds and listens on the socket (if run_service); EADDRINUSE if another live service owns
    // the path, EINVAL if socket_path is empty.
    static Result<std::unique_ptr<TimelineHost>> create(HostOptions options);
    ~TimelineHost(); // closes every connection, unlinks the socket path, stops its thread
    TimelineHost(const TimelineHost&) = delete;
    TimelineHost& operator=(const TimelineHost&) = delete;

    // An fd to add to the host's event loop (POLLIN); call dispatch() when readable. -1 when
    // the host runs no service (nothing to dispatch then).
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
    // kernel (or the host's waiter thread) as always.
    void dispatch(const std::function<void()>& act);
    // Empty when the host runs no service.
    const std::string& socket_path() const noexcept;

    // Imports a timeline fd received from a client (the fd is duplicated; the caller keeps and
    // closes its own). Accepts timelines of this service (if it runs one), and kernel syncobj
    // fds when /dev/syncobj or a DRM render node with timeline syncobjs is available. Anything
    // else fails with EINVAL and a message naming what the fd is (pipe, memfd, eventfd, a
    // timeline of another service, a dead timeline, a service timeline where the host runs
    // no service, ...).
    Result<std::shared_ptr<HostedTimeline>> import_timeline(int fd);

    // Whether kernel syncobj fds can be imported, and through which device (empty if not).
    const std::string& kernel_device() const noexcept;
    // How kernel points are waited for, in words for a log: "SYNCOBJ_EVENTFD", or the waiter
    // thread where the kernel lacks it. Empty when kernel_device() is.
    const std::string& kernel_wait_method() const noexcept;

private:
    explicit TimelineHost(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

} // namespace syncway::syncobj
