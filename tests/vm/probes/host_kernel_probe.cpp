// vm-fence-probe host-kernel-points: the compositor's host (syncobj/host) on real kernel
// syncobjs of a render node, with or without SYNCOBJ_EVENTFD (the check runs it a second time
// with libvm-no-syncobj-eventfd.so, which hides that ioctl, as on Linux 5.2-6.5):
//  - a binary syncobj holding an unsignaled sw_sync fence (what a client's imported sync_file
//    is): point 0 is pending, its wait quiet, until the fence signals;
//  - a timeline point waited for before it is submitted (wait-before-submit), then submitted
//    with an unsignaled fence: quiet until that fence signals.
#include "fence_probe.hpp"
#include "kernel/drm_syncobj_device.hpp"
#include "kernel/sw_sync_timeline.hpp"

#include <syncobj/timeline_host.hpp>
#include <syncway/unique_fd.hpp>

#include <xf86drm.h>

#include <cstdio>

namespace syncway::vm {

namespace {

namespace so = syncobj;

const char* state_name(so::PointState s)
{
    switch (s) {
    case so::PointState::Unsubmitted: return "unsubmitted";
    case so::PointState::Pending: return "pending";
    case so::PointState::Signaled: return "signaled";
    case so::PointState::Failed: return "failed";
    }
    return "?";
}

Status expect_state(so::HostedTimeline& tl, uint64_t point, so::PointState want, const char* when)
{
    auto st = tl.query(point);
    if (!st)
        return wrong(std::string("query(") + std::to_string(point) + ") " + when + ": " + st.error().message);
    if (st->state != want)
        return wrong(std::string("query(") + std::to_string(point) + ") " + when + " says " + state_name(st->state) +
                     ", expected " + state_name(want));
    return Ok{};
}

// A new syncobj on `dev` as the fd a client would send, and its handle there.
Result<UniqueFd> new_syncobj_fd(const so::DrmSyncobjDevice& dev, uint32_t& handle)
{
    if (drmSyncobjCreate(dev.fd(), 0, &handle) != 0)
        return sys_error("DRM_IOCTL_SYNCOBJ_CREATE");
    int fd = -1;
    if (drmSyncobjHandleToFD(dev.fd(), handle, &fd) != 0)
        return sys_error("DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD");
    return UniqueFd(fd);
}

} // namespace

Status probe_host_kernel_points()
{
    auto client = so::DrmSyncobjDevice::open_first(so::DrmSyncobjDevice::Need::Timelines);
    if (!client)
        return client.error();
    so::HostOptions opt;
    opt.run_service = false;
    auto host = so::TimelineHost::create(opt);
    if (!host)
        return host.error();
    if ((*host)->kernel_device().empty())
        return wrong("the host found no render node for kernel syncobjs");
    std::printf("host: kernel syncobjs through %s, waited for by %s\n", (*host)->kernel_device().c_str(),
                (*host)->kernel_wait_method().c_str());
    auto sw = so::SwSyncTimeline::open();
    if (!sw)
        return sw.error();

    // Binary point: the syncobj's fence is an unsignaled sw_sync fence (value 1).
    uint32_t binary = 0;
    auto binary_fd = new_syncobj_fd(*client, binary);
    if (!binary_fd)
        return binary_fd.error();
    auto bin = (*host)->import_timeline(binary_fd->get());
    if (!bin)
        return bin.error();
    if (auto s = expect_state(**bin, 0, so::PointState::Unsubmitted, "of a binary syncobj without a fence"); !s)
        return s;
    auto fence = sw->create_fence(1, "syncway-vm-binary");
    if (!fence)
        return fence.error();
    if (drmSyncobjImportSyncFile(client->fd(), binary, fence->get()) != 0)
        return sys_error("DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE (IMPORT_SYNC_FILE)");
    if (auto s = expect_state(**bin, 0, so::PointState::Pending, "while its sync_file's fence is unsignaled"); !s)
        return s;
    auto wait0 = (*bin)->wait(0);
    if (!wait0)
        return wrong("wait(0): " + wait0.error().message);
    if (readable(wait0->fd(), 200) || wait0->fired())
        return wrong("the wait for binary point 0 fired while its fence is unsignaled");

    // Timeline point 2, waited for before it is submitted.
    uint32_t timeline = 0;
    auto timeline_fd = new_syncobj_fd(*client, timeline);
    if (!timeline_fd)
        return timeline_fd.error();
    auto tl = (*host)->import_timeline(timeline_fd->get());
    if (!tl)
        return tl.error();
    auto wait2 = (*tl)->wait(2);
    if (!wait2)
        return wrong("wait(2) before submission: " + wait2.error().message);
    if (readable(wait2->fd(), 200))
        return wrong("the wait for unsubmitted point 2 fired");
    if (auto s = expect_state(**tl, 2, so::PointState::Unsubmitted, "before submission"); !s)
        return s;
    // Submit point 2 with an unsignaled fence (value 2 of the same sw_sync timeline).
    auto fence2 = sw->create_fence(2, "syncway-vm-point2");
    if (!fence2)
        return fence2.error();
    uint32_t carrier = 0;
    if (drmSyncobjCreate(client->fd(), 0, &carrier) != 0 ||
        drmSyncobjImportSyncFile(client->fd(), carrier, fence2->get()) != 0 ||
        drmSyncobjTransfer(client->fd(), timeline, 2, carrier, 0, 0) != 0)
        return sys_error("submitting point 2 (CREATE, IMPORT_SYNC_FILE, TRANSFER)");
    drmSyncobjDestroy(client->fd(), carrier);
    if (readable(wait2->fd(), 200) || wait2->fired())
        return wrong("the wait for point 2 fired once submitted, its fence still unsignaled");
    if (auto s = expect_state(**tl, 2, so::PointState::Pending, "submitted, unsignaled"); !s)
        return s;

    // The binary fence signals: only its wait fires.
    if (auto s = sw->advance(1); !s)
        return s;
    if (!readable(wait0->fd(), 2000) || !wait0->fired())
        return wrong("the wait for binary point 0 did not fire within 2 s of its fence signaling");
    if (auto s = expect_state(**bin, 0, so::PointState::Signaled, "after its fence signaled"); !s)
        return s;
    if (readable(wait2->fd(), 100))
        return wrong("the wait for point 2 fired with the fence of point 1");
    if (auto s = sw->advance(1); !s)
        return s;
    if (!readable(wait2->fd(), 2000) || !wait2->fired())
        return wrong("the wait for point 2 did not fire within 2 s of its fence signaling");
    if (auto s = expect_state(**tl, 2, so::PointState::Signaled, "after its fence signaled"); !s)
        return s;
    std::printf("binary point 0: unsubmitted, pending, fired on its fence; point 2 waited before submission: "
                "quiet while unsubmitted and while pending, fired on its fence\n");
    return Ok{}; // the handles go with the render node's fd

}

} // namespace syncway::vm
