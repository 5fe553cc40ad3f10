// The host: its service (optional), its kernel device (optional), and import_timeline, which
// decides once, from what the fd is, which HostedTimeline implementation holds it.
#include <syncobj/timeline_host.hpp>

#include "drm_blocking_wait.hpp"
#include "drm_syncobj.hpp"
#include "kernel_timeline.hpp"
#include "kernel_wait_thread.hpp"
#include "service_timeline.hpp"
#include "service_wakes.hpp"
#include "syncobj_dev_syncobj.hpp"

#include "../kernel/drm_syncobj_device.hpp"
#include "../kernel/syncobj_dev_device.hpp"
#include "../service/fd_kind.hpp"
#include "../service/service.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace syncway::syncobj {

HostedTimeline::~HostedTimeline() = default;

struct TimelineHost::Impl {
    std::unique_ptr<Service> service; // null: run_service was false
    std::unique_ptr<SyncobjDevDevice> sdev;
    std::unique_ptr<DrmSyncobjDevice> drm;
    // Waits on `drm` when its kernel has no SYNCOBJ_EVENTFD. Declared after `drm`, so it stops
    // (and lets go of the handles it holds) before the device closes.
    std::unique_ptr<KernelWaitThread> drm_waits;
    std::string kernel_device;
    std::string kernel_wait_method;
    std::string kernel_absent_reason;
    WakeQueue wakes;
    std::string no_socket; // socket_path() without a service

    void open_kernel_device(const HostOptions& options);
};

void TimelineHost::Impl::open_kernel_device(const HostOptions& options)
{
    if (!options.import_kernel_timelines) {
        kernel_absent_reason = "kernel timelines disabled by the host";
        return;
    }
    std::string sdev_absent;
    if (options.kernel_via_syncobj_dev) {
        auto dev = SyncobjDevDevice::open(options.syncobj_dev_path.empty() ? std::string(SyncobjDevDevice::kPath)
                                                                           : options.syncobj_dev_path);
        if (dev) {
            kernel_device = dev->path();
            kernel_wait_method = "SYNCOBJ_EVENTFD";
            sdev = std::make_unique<SyncobjDevDevice>(std::move(dev.value()));
            return;
        }
        sdev_absent = dev.error().message + "; ";
    }
    // Any render node with timeline syncobjs imports any client's syncobj fd (syncobjs are not
    // tied to the device that made them); EVENTFD is a kernel feature, the same on every node.
    auto dev = DrmSyncobjDevice::open_first(DrmSyncobjDevice::Need::Timelines);
    if (!dev) {
        kernel_absent_reason = sdev_absent + dev.error().message;
        return;
    }
    auto node = std::make_unique<DrmSyncobjDevice>(std::move(dev.value()));
    if (!node->has_eventfd()) {
        auto source = DrmBlockingWait::create(*node);
        if (!source) {
            kernel_absent_reason = source.error().message;
            return;
        }
        drm_waits = std::make_unique<KernelWaitThread>(std::move(source.value()));
        kernel_wait_method = "a waiter thread in DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT (this kernel has no SYNCOBJ_EVENTFD)";
    } else {
        kernel_wait_method = "SYNCOBJ_EVENTFD";
    }
    kernel_device = node->path();
    drm = std::move(node);
}

TimelineHost::TimelineHost(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TimelineHost::~TimelineHost() = default;

Result<std::unique_ptr<TimelineHost>> TimelineHost::create(HostOptions options)
{
    auto impl = std::make_unique<Impl>();
    if (options.run_service) {
        if (options.socket_path.empty())
            return make_error(EINVAL, "HostOptions::socket_path is empty: the service needs a socket path "
                                      "(or set HostOptions::run_service = false)");
        Service::Options sopt;
        sopt.limits = options.limits;
        auto service = Service::listen_at(options.socket_path, std::move(sopt));
        if (!service)
            return service.error();
        impl->service = std::move(service.value());
    }
    impl->open_kernel_device(options);
    return std::unique_ptr<TimelineHost>(new TimelineHost(std::move(impl)));
}

int TimelineHost::fd() const noexcept { return impl_->service ? impl_->service->fd() : -1; }

void TimelineHost::dispatch()
{
    if (impl_->service)
        impl_->service->dispatch(0);
}

void TimelineHost::dispatch(const std::function<void()>& act)
{
    if (!impl_->service) {
        if (act)
            act();
        return;
    }
    WakeQueue& wakes = impl_->wakes;
    wakes.begin();
    impl_->service->dispatch(0, [&] {
        if (act)
            act();
        wakes.flush();
    });
}

const std::string& TimelineHost::socket_path() const noexcept
{
    return impl_->service ? impl_->service->path() : impl_->no_socket;
}
const std::string& TimelineHost::kernel_device() const noexcept { return impl_->kernel_device; }
const std::string& TimelineHost::kernel_wait_method() const noexcept { return impl_->kernel_wait_method; }

Result<std::shared_ptr<HostedTimeline>> TimelineHost::import_timeline(int fd)
{
    FdInfo info = inspect_fd(fd);
    if (info.kind == FdKind::Invalid)
        return make_error(EBADF, describe_fd(fd, info) + " is not a timeline");
    if (info.kind != FdKind::SeqpacketSocket && info.kind != FdKind::KernelSyncobj)
        return make_error(EINVAL, describe_fd(fd, info) + " is not a timeline");
    if (info.kind == FdKind::SeqpacketSocket && !impl_->service)
        return make_error(EINVAL, describe_fd(fd, info) + " (a userspace syncobj service timeline?): this host "
                                  "accepts kernel syncobj fds only");
    if (info.kind == FdKind::KernelSyncobj && !impl_->sdev && !impl_->drm)
        return make_error(EINVAL, "a kernel syncobj fd, but this host cannot import kernel timelines: " +
                                      impl_->kernel_absent_reason);

    std::shared_ptr<core::Timeline> service_timeline;
    if (info.kind == FdKind::SeqpacketSocket) {
        service_timeline = impl_->service->find_timeline(fd);
        if (!service_timeline)
            return make_error(EINVAL, describe_fd(fd, info) + " (clients must use the service at " +
                                          socket_path() + ", given to them in $" + kSocketEnv + ")");
    }
    UniqueFd own(fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!own)
        return make_error(errno, std::string("cannot duplicate the timeline fd: ") + strerror(errno));
    if (service_timeline)
        return std::shared_ptr<HostedTimeline>(
            std::make_shared<ServiceTimeline>(std::move(own), std::move(service_timeline), impl_->wakes));

    std::unique_ptr<KernelSyncobj> syncobj;
    if (impl_->sdev) {
        syncobj = std::make_unique<SyncobjDevSyncobj>(*impl_->sdev, own.get());
    } else {
        auto drm = DrmSyncobj::import(*impl_->drm, impl_->drm_waits.get(), fd);
        if (!drm)
            return drm.error();
        syncobj = std::move(drm.value());
    }
    return std::shared_ptr<HostedTimeline>(std::make_shared<KernelTimeline>(std::move(own), std::move(syncobj)));
}

} // namespace syncway::syncobj
