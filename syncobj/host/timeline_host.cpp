#include <syncobj/timeline_host.hpp>

#include "../kernel/drm_syncobj_device.hpp"
#include "../kernel/syncobj_dev_device.hpp"
#include "../service/fd_kind.hpp"
#include "../service/service.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace syncway::syncobj {

namespace {

class HostWaiter;

// Eventfd writes of host waits resolved while TimelineHost::dispatch(act) runs. `act` takes the
// waits it reacts to in-process (PointWait::fired) and drops them, and a dropped wait is never
// written: so those writes, and the loop wake-ups they would cause, are only made after `act` for
// the waits it left alive (B3). Outside such a dispatch, a resolved wait writes at once.
class WakeQueue {
public:
    bool deferring() const noexcept { return deferring_; }
    void begin() noexcept { deferring_ = true; }
    void push(HostWaiter* w) { queued_.push_back(w); }
    void remove(HostWaiter* w) noexcept { std::erase(queued_, w); }
    // Writes every queued wait still alive and stops deferring.
    void flush() noexcept;

private:
    bool deferring_ = false;
    std::vector<HostWaiter*> queued_;
};

// A host wait on a service timeline: writes its eventfd in-process, no message involved.
class HostWaiter final : public core::Waiter {
public:
    HostWaiter(int efd, WakeQueue& wakes) : efd_(efd), wakes_(wakes) {}
    ~HostWaiter() override
    {
        if (queued_)
            wakes_.remove(this);
    }
    bool fired() const noexcept { return fired_; }
    void write_eventfd() noexcept
    {
        queued_ = false;
        uint64_t one = 1;
        ssize_t r = write(efd_, &one, sizeof one);
        (void)r;
    }

protected:
    void resolved(int) override { fire(); }
    // The timeline died before the point was submitted: wake the host rather than hang it.
    void dropped() override { fire(); }

private:
    void fire()
    {
        fired_ = true;
        if (!wakes_.deferring())
            return write_eventfd();
        queued_ = true;
        wakes_.push(this);
    }
    int efd_;
    WakeQueue& wakes_;
    bool fired_ = false;
    bool queued_ = false;
};

void WakeQueue::flush() noexcept
{
    deferring_ = false;
    // Each write clears its waiter's mark; the vector is not touched by it.
    for (HostWaiter* w : queued_)
        w->write_eventfd();
    queued_.clear();
}

Result<UniqueFd> make_eventfd()
{
    UniqueFd efd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!efd)
        return make_error(errno, std::string("eventfd failed: ") + strerror(errno));
    return efd;
}

} // namespace

// ---- PointWait -----------------------------------------------------------------------------

struct PointWait::Impl {
    UniqueFd efd;
    std::unique_ptr<HostWaiter> waiter; // service timelines only; destroying it cancels
};

PointWait::PointWait() noexcept = default;
PointWait::PointWait(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
PointWait::PointWait(PointWait&&) noexcept = default;
PointWait& PointWait::operator=(PointWait&&) noexcept = default;
PointWait::~PointWait() = default;

int PointWait::fd() const noexcept { return impl_ ? impl_->efd.get() : -1; }

bool PointWait::fired() const noexcept
{
    if (!impl_)
        return false;
    if (impl_->waiter)
        return impl_->waiter->fired();
    pollfd p{impl_->efd.get(), POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

// ---- HostedTimeline ------------------------------------------------------------------------

struct HostedTimeline::Impl {
    TimelineKind kind = TimelineKind::Service;
    WakeQueue* wakes = nullptr;  // the host's; service timelines only
    UniqueFd fd; // our reference: the timeline lives at least as long as this object
    std::shared_ptr<core::Timeline> timeline;
    // Kernel timelines: through /dev/syncobj (on `fd` itself), or a DRM node (on `handle`).
    const SyncobjDevDevice* sdev = nullptr;
    const DrmSyncobjDevice* drm = nullptr;
    uint32_t handle = 0;

    // Kernel fence errors: WAIT and QUERY count a failed fence as signaled, and once a later
    // point exists any walk of the chain drops a signaled node with its error. So each waited,
    // submitted point's fence is held in a snapshot (a binary syncobj: a DRM handle or a
    // /dev/syncobj fd) from the wait until a query sees the point resolved, which reads the
    // error from it. Bounded: a timeline keeps at most kMaxSnapshots (the oldest go first).
    struct Snapshot {
        UniqueFd fd;          // /dev/syncobj
        uint32_t handle = 0;  // DRM
    };
    static constexpr size_t kMaxSnapshots = 64;
    mutable std::map<uint64_t, Snapshot> snapshots;

    ~Impl()
    {
        if (drm) {
            for (auto& [point, snap] : snapshots)
                drm->destroy(snap.handle);
            if (handle)
                drm->destroy(handle);
        }
    }
    // A snapshot of `point` (submitted) for a later fence_error; false if it cannot be taken.
    bool take_snapshot(uint64_t point, Snapshot& out) const
    {
        if (sdev)
            return sdev->snapshot(fd.get(), point, out.fd) == 0;
        return drm->snapshot(handle, point, out.handle) == 0;
    }
    void keep_snapshot(uint64_t point) const
    {
        if (snapshots.count(point))
            return;
        Snapshot snap;
        if (!take_snapshot(point, snap))
            return;
        if (snapshots.size() >= kMaxSnapshots)
            drop_snapshot(snapshots.begin());
        snapshots.emplace(point, std::move(snap));
    }
    void drop_snapshot(std::map<uint64_t, Snapshot>::iterator it) const
    {
        if (drm)
            drm->destroy(it->second.handle);
        snapshots.erase(it);
    }
    // The error `point` (signaled) resolved with: from the snapshot taken at its wait, else from
    // one taken now (which sees it only while the point is the newest on its timeline).
    int kernel_fence_error(uint64_t point) const
    {
        Snapshot now;
        auto it = snapshots.find(point);
        const Snapshot* snap = it != snapshots.end() ? &it->second : (take_snapshot(point, now) ? &now : nullptr);
        int err = 0;
        if (snap)
            err = sdev ? sdev->fence_error(snap->fd.get()) : drm->fence_error(snap->handle);
        if (it != snapshots.end())
            drop_snapshot(it);
        else if (drm && now.handle)
            drm->destroy(now.handle);
        return err;
    }
    int kernel_query(uint64_t& point, bool last_submitted) const
    {
        uint32_t flags = last_submitted ? 1u : 0u;
        if (sdev) {
            int f = fd.get();
            return sdev->query(&f, &point, 1, flags);
        }
        uint32_t h = handle;
        return drm->query(&h, &point, 1, flags);
    }
    int kernel_eventfd(uint64_t point, int event_fd, uint32_t flags) const
    {
        return sdev ? sdev->eventfd(fd.get(), point, event_fd, flags) : drm->eventfd(handle, point, event_fd, flags);
    }
    int kernel_signal(uint64_t point) const
    {
        if (sdev) {
            int f = fd.get();
            return sdev->signal(&f, &point, 1);
        }
        uint32_t h = handle;
        return drm->signal(&h, &point, 1);
    }
};

HostedTimeline::HostedTimeline(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
HostedTimeline::~HostedTimeline() = default;

TimelineKind HostedTimeline::kind() const noexcept { return impl_->kind; }

Result<PointWait> HostedTimeline::wait(uint64_t point, WaitFor what)
{
    auto efd = make_eventfd();
    if (!efd)
        return efd.error();
    auto impl = std::make_unique<PointWait::Impl>();
    impl->efd = std::move(efd.value());
    uint32_t flags = core::kWaitForSubmit | (what == WaitFor::Available ? core::kWaitAvailable : 0);
    if (impl_->kind == TimelineKind::Service) {
        impl->waiter = std::make_unique<HostWaiter>(impl->efd.get(), *impl_->wakes);
        auto st = impl_->timeline->wait(*impl->waiter, point, flags);
        if (!st)
            return st.error();
    } else {
        int r = impl_->kernel_eventfd(point, impl->efd.get(), what == WaitFor::Available ? core::kWaitAvailable : 0);
        if (r)
            return make_error(-r, std::string("kernel SYNCOBJ_EVENTFD failed: ") + strerror(-r));
        uint64_t head = 0;
        if (what == WaitFor::Signaled && impl_->kernel_query(head, true) == 0 && point <= head)
            impl_->keep_snapshot(point);
    }
    return PointWait(std::move(impl));
}

Result<PointStatus> HostedTimeline::query(uint64_t point) const
{
    if (impl_->kind == TimelineKind::Service) {
        core::PointInfo info = impl_->timeline->info(point);
        return PointStatus{static_cast<PointState>(info.phase), info.error};
    }
    uint64_t head = 0, done = 0;
    if (int r = impl_->kernel_query(head, true))
        return make_error(-r, std::string("kernel SYNCOBJ_QUERY failed: ") + strerror(-r));
    if (int r = impl_->kernel_query(done, false))
        return make_error(-r, std::string("kernel SYNCOBJ_QUERY failed: ") + strerror(-r));
    if (point > head)
        return PointStatus{PointState::Unsubmitted, 0};
    if (point > done)
        return PointStatus{PointState::Pending, 0};
    if (int err = impl_->kernel_fence_error(point))
        return PointStatus{PointState::Failed, err};
    return PointStatus{PointState::Signaled, 0};
}

Result<uint64_t> HostedTimeline::last_signaled() const
{
    if (impl_->kind == TimelineKind::Service)
        return impl_->timeline->query(false);
    uint64_t p = 0;
    if (int r = impl_->kernel_query(p, false))
        return make_error(-r, std::string("kernel SYNCOBJ_QUERY failed: ") + strerror(-r));
    return p;
}

Result<uint64_t> HostedTimeline::last_submitted() const
{
    if (impl_->kind == TimelineKind::Service)
        return impl_->timeline->query(true);
    uint64_t p = 0;
    if (int r = impl_->kernel_query(p, true))
        return make_error(-r, std::string("kernel SYNCOBJ_QUERY failed: ") + strerror(-r));
    return p;
}

Status HostedTimeline::signal(uint64_t point)
{
    if (impl_->kind == TimelineKind::Service) {
        auto tl = impl_->timeline;
        tl->signal(point);
        return Ok{};
    }
    if (int r = impl_->kernel_signal(point))
        return make_error(-r, std::string("kernel SYNCOBJ_TIMELINE_SIGNAL failed: ") + strerror(-r));
    return Ok{};
}

// ---- TimelineHost --------------------------------------------------------------------------

struct TimelineHost::Impl {
    std::unique_ptr<Service> service;
    std::unique_ptr<SyncobjDevDevice> sdev;
    std::unique_ptr<DrmSyncobjDevice> drm;
    std::string kernel_device;
    std::string kernel_absent_reason;
    WakeQueue wakes;
};

TimelineHost::TimelineHost(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TimelineHost::~TimelineHost() = default;

Result<std::unique_ptr<TimelineHost>> TimelineHost::create(HostOptions options)
{
    std::string path = options.socket_path;
    if (path.empty()) {
        const char* dir = getenv("XDG_RUNTIME_DIR");
        if (!dir || !*dir)
            return make_error(EINVAL, "XDG_RUNTIME_DIR is not set: give HostOptions::socket_path");
        path = std::string(dir) + "/syncway-syncobj-" + std::to_string(getpid()) + ".sock";
    }
    Service::Options sopt;
    sopt.limits = options.limits;
    auto service = Service::listen_at(path, std::move(sopt));
    if (!service)
        return service.error();
    auto impl = std::make_unique<Impl>();
    impl->service = std::move(service.value());
    if (options.import_kernel_timelines) {
        std::string sdev_absent;
        if (options.kernel_via_syncobj_dev) {
            auto sdev = SyncobjDevDevice::open(SyncobjDevDevice::default_path());
            if (sdev) {
                impl->kernel_device = sdev->path();
                impl->sdev = std::make_unique<SyncobjDevDevice>(std::move(sdev.value()));
            } else {
                sdev_absent = sdev.error().message + "; ";
            }
        }
        if (!impl->sdev) {
            auto dev = DrmSyncobjDevice::open_first();
            if (dev) {
                impl->kernel_device = dev->path();
                impl->drm = std::make_unique<DrmSyncobjDevice>(std::move(dev.value()));
            } else {
                impl->kernel_absent_reason = sdev_absent + dev.error().message;
            }
        }
    } else {
        impl->kernel_absent_reason = "kernel timelines disabled by the host";
    }
    return std::unique_ptr<TimelineHost>(new TimelineHost(std::move(impl)));
}

int TimelineHost::fd() const noexcept { return impl_->service->fd(); }
void TimelineHost::dispatch() { impl_->service->dispatch(0); }
void TimelineHost::dispatch(const std::function<void()>& act)
{
    WakeQueue& wakes = impl_->wakes;
    wakes.begin();
    impl_->service->dispatch(0, [&] {
        if (act)
            act();
        wakes.flush();
    });
}
const std::string& TimelineHost::socket_path() const noexcept { return impl_->service->path(); }
const std::string& TimelineHost::kernel_device() const noexcept { return impl_->kernel_device; }

Result<std::shared_ptr<HostedTimeline>> TimelineHost::import_timeline(int fd)
{
    FdInfo info = inspect_fd(fd);
    if (info.kind == FdKind::Invalid)
        return make_error(EBADF, describe_fd(fd, info) + " is not a timeline");
    auto impl = std::make_unique<HostedTimeline::Impl>();
    if (info.kind == FdKind::SeqpacketSocket) {
        impl->timeline = impl_->service->find_timeline(fd);
        if (!impl->timeline)
            return make_error(EINVAL, describe_fd(fd, info) + " (clients must use the service at " +
                                          socket_path() + ", given to them in $" + kSocketEnv + ")");
        impl->kind = TimelineKind::Service;
        impl->wakes = &impl_->wakes;
    } else if (info.kind == FdKind::KernelSyncobj) {
        if (!impl_->sdev && !impl_->drm)
            return make_error(EINVAL, "a kernel syncobj fd, but this host cannot import kernel timelines: " +
                                          impl_->kernel_absent_reason);
        impl->kind = TimelineKind::DrmSyncobj;
        impl->sdev = impl_->sdev.get();
        impl->drm = impl_->sdev ? nullptr : impl_->drm.get();
        if (impl->drm) {
            if (int r = impl_->drm->fd_to_handle(fd, impl->handle))
                return make_error(EINVAL, std::string("kernel syncobj fd rejected by ") + impl_->kernel_device +
                                              ": " + strerror(-r));
        }
    } else {
        return make_error(EINVAL, describe_fd(fd, info) + " is not a timeline");
    }
    impl->fd.reset(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!impl->fd)
        return make_error(errno, std::string("cannot duplicate the timeline fd: ") + strerror(errno));
    return std::make_shared<HostedTimeline>(std::move(impl));
}

} // namespace syncway::syncobj
