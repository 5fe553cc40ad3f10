// vm-fence-probe: syncobj/ against the VM's real kernel objects. Which backend syncobj_open
// picks on a machine whose DRM devices lack timeline syncobjs (6.1), and on one whose
// virtio-gpu has them (6.12), and kernel fences (sw_sync, vgem's implicit write fence exported
// with DMA_BUF_IOCTL_EXPORT_SYNC_FILE) imported into a timeline point: the point must signal
// exactly when the fence does.
#include "kernel/drm_syncobj_device.hpp"

#include "fence_probe.hpp"
#include "ioctl_retry.hpp"
#include "probe.hpp"
#include "kernel/sw_sync_timeline.hpp" // syncobj/'s, the one sw_sync wrapper
#include "vgem_buffer.hpp"

#include <syncobj/syncobj.h>
#include <syncway/unique_fd.hpp>

#include <xf86drm.h>

#include <linux/dma-buf.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

namespace syncway::vm {

using syncobj::SwSyncTimeline;

namespace {

// 0 when signaled within `ms`, -ETIME when not, another -errno on failure.
int wait_point(syncobj_device* dev, int timeline, uint64_t point, std::chrono::milliseconds ms)
{
    uint64_t p = point;
    return syncobj_wait(dev, &timeline, &p, 1, ms.count() ? deadline_in(ms) : 0, SYNCOBJ_WAIT_FOR_SUBMIT,
                        nullptr);
}

// What a timeline fd is, as /proc names it (a kernel syncobj: "anon_inode:syncobj_file").
std::string fd_target(int fd)
{
    char target[256] = {};
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
}

// The fence imported at `point` must hold the point back until `fire` signals it, then
// release it at once. `what` names the fence in messages.
template <typename Fire>
Status expect_point_follows_fence(syncobj_device* dev, int sync_file, const char* what, Fire fire)
{
    int timeline = -1;
    if (int r = syncobj_create(dev, 0, &timeline); r != 0)
        return make_error(-r, std::string("syncobj_create: ") + syncobj_last_error());
    UniqueFd tl(timeline);
    std::printf("backend %s, timeline fd %s\n", syncobj_backend_name(syncobj_backend_of(dev)), fd_target(tl.get()).c_str());
    constexpr uint64_t point = 5;
    if (int r = syncobj_import_sync_file(dev, tl.get(), point, sync_file); r != 0)
        return make_error(-r, std::string("syncobj_import_sync_file of the ") + what + ": " + std::strerror(-r) +
                                  ": " + syncobj_last_error());
    int r = wait_point(dev, tl.get(), point, std::chrono::milliseconds(300));
    if (r == 0)
        return wrong(std::string("point 5 signaled while the ") + what + " was still unsignaled");
    if (r != -ETIME)
        return make_error(-r, std::string("wait on point 5: ") + std::strerror(-r) + ": " + syncobj_last_error());
    auto fired = std::chrono::steady_clock::now();
    if (auto s = fire(); !s)
        return s;
    r = wait_point(dev, tl.get(), point, std::chrono::milliseconds(5000));
    if (r != 0)
        return make_error(-r, std::string("point 5 did not signal within 5 s of the ") + what + " signaling: " +
                                  std::strerror(-r) + " " + syncobj_last_error());
    std::printf("%s imported at point 5: unsignaled for 300 ms while the fence was, signaled %.1f ms after it\n",
                what, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fired).count());
    return Ok{};
}

Status probe_backends()
{
    for (auto kernel : {SYNCOBJ_BACKEND_SYNCOBJ_DEV, SYNCOBJ_BACKEND_DRM}) {
        auto dev = open_backend(kernel);
        if (dev)
            return wrong(std::string("forcing ") + syncobj_backend_name(kernel) +
                         " succeeded, but no device of this kernel offers it");
        if (dev.error().code != ENODEV)
            return wrong(dev.error().message + " (expected ENODEV)");
        std::printf("forced %s: refused as it should be: %s\n", syncobj_backend_name(kernel),
                    dev.error().message.c_str());
    }
    auto dev = open_backend(SYNCOBJ_BACKEND_AUTO);
    if (!dev)
        return dev.error();
    auto picked = syncobj_backend_of(dev->get());
    std::printf("auto picked %s\n", syncobj_backend_name(picked));
    if (picked != SYNCOBJ_BACKEND_SERVICE)
        return wrong(std::string("auto picked ") + syncobj_backend_name(picked) +
                     ", but only the userspace service works on this kernel");
    return Ok{};
}

// One timeline of `dev` through create, EVENTFD, TIMELINE_SIGNAL, QUERY and WAIT, checked
// against the kernel's answers; the timeline must be a kernel syncobj.
Status exercise_kernel_timeline(syncobj_device* dev)
{
    int fd = -1;
    if (int r = syncobj_create(dev, 0, &fd); r != 0)
        return make_error(-r, std::string("syncobj_create: ") + syncobj_last_error());
    UniqueFd tl(fd);
    std::string what = fd_target(tl.get());
    if (what != "anon_inode:syncobj_file")
        return wrong("the DRM backend's timeline fd is " + what + ", not a kernel syncobj (anon_inode:syncobj_file)");
    UniqueFd ev(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (int r = syncobj_eventfd(dev, tl.get(), 2, ev.get(), 0); r != 0)
        return make_error(-r, std::string("syncobj_eventfd at point 2: ") + syncobj_last_error());
    uint64_t p1 = 1, p2 = 2, got = ~0ull;
    if (int r = syncobj_signal(dev, &fd, &p1, 1); r != 0)
        return make_error(-r, std::string("syncobj_signal point 1: ") + syncobj_last_error());
    if (int r = syncobj_query(dev, &fd, &got, 1, 0); r != 0 || got != 1)
        return wrong("query after signaling point 1 gave " + std::to_string(got) + " (r=" + std::to_string(r) + ")");
    if (readable(ev.get(), 100))
        return wrong("the eventfd for point 2 fired when only point 1 was signaled");
    if (int r = wait_point(dev, tl.get(), 2, std::chrono::milliseconds(0)); r != -ETIME)
        return wrong("a 0-timeout wait for point 2 (unsubmitted) gave " + std::to_string(r) + ", expected -ETIME");
    if (int r = syncobj_signal(dev, &fd, &p2, 1); r != 0)
        return make_error(-r, std::string("syncobj_signal point 2: ") + syncobj_last_error());
    if (!readable(ev.get(), 2000))
        return wrong("the eventfd for point 2 did not fire within 2 s of DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL");
    if (int r = wait_point(dev, tl.get(), 2, std::chrono::milliseconds(1000)); r != 0)
        return wrong("waiting for the signaled point 2 gave " + std::to_string(r));
    std::printf("  timeline fd is %s; EVENTFD at 2 stayed quiet after point 1, fired after point 2; "
                "QUERY and WAIT agree\n", what.c_str());
    return Ok{};
}

// The 6.12 kernel: virtio-gpu has DRM_CAP_SYNCOBJ_TIMELINE and DRM_IOCTL_SYNCOBJ_EVENTFD. Auto
// must pick the DRM backend there (no /dev/syncobj), on virtio-gpu's render node, and its
// timelines must be kernel syncobjs; forcing drm works; forcing the service still works.
Status probe_kernel_backends()
{
    auto syncobj_dev = open_backend(SYNCOBJ_BACKEND_SYNCOBJ_DEV);
    if (syncobj_dev)
        return wrong("forcing syncobj-dev succeeded, but this kernel has no /dev/syncobj");
    std::printf("forced syncobj-dev: refused: %s\n", syncobj_dev.error().message.c_str());
    auto node = syncobj::DrmSyncobjDevice::open_first(syncobj::DrmSyncobjDevice::Need::TimelinesAndEventfd);
    if (!node)
        return wrong("no render node passes the DRM backend's probe: " + node.error().message);
    drmVersionPtr version = drmGetVersion(node->fd());
    std::string driver = version && version->name ? version->name : "?";
    drmFreeVersion(version);
    std::printf("the DRM backend's probe picks %s (driver %s)\n", node->path().c_str(), driver.c_str());
    if (driver != "virtio_gpu")
        return wrong("the probe picked " + node->path() + " (" + driver + "), expected virtio-gpu's render node");
    struct Case {
        syncobj_backend api;
        const char* env;
        syncobj_backend expect;
    };
    for (Case c : {Case{SYNCOBJ_BACKEND_AUTO, nullptr, SYNCOBJ_BACKEND_DRM}, Case{SYNCOBJ_BACKEND_DRM, nullptr, SYNCOBJ_BACKEND_DRM},
                   Case{SYNCOBJ_BACKEND_AUTO, "drm", SYNCOBJ_BACKEND_DRM},
                   Case{SYNCOBJ_BACKEND_AUTO, "service", SYNCOBJ_BACKEND_SERVICE}}) {
        if (c.env)
            setenv("SYNCWAY_SYNCOBJ_BACKEND", c.env, 1);
        else
            unsetenv("SYNCWAY_SYNCOBJ_BACKEND");
        auto dev = open_backend(c.api);
        if (!dev)
            return dev.error();
        auto picked = syncobj_backend_of(dev->get());
        std::printf("syncobj_open(%s)%s%s picked %s\n", syncobj_backend_name(c.api),
                    c.env ? " with SYNCWAY_SYNCOBJ_BACKEND=" : "", c.env ? c.env : "", syncobj_backend_name(picked));
        if (picked != c.expect)
            return wrong(std::string("picked ") + syncobj_backend_name(picked) + ", expected " +
                         syncobj_backend_name(c.expect));
        if (picked == SYNCOBJ_BACKEND_DRM)
            if (auto s = exercise_kernel_timeline(dev->get()); !s)
                return s;
    }
    unsetenv("SYNCWAY_SYNCOBJ_BACKEND");
    return Ok{};
}

// A fence imported as a binary syncobj (point 0): syncobj_point_state must report it pending
// until the fence signals. (The kernel's QUERY answers 0 for a binary syncobj whatever its
// fence does, so a point state read from QUERY alone calls it signaled at once.)
Status expect_binary_point_follows_fence(syncobj_device* dev)
{
    auto timeline = SwSyncTimeline::open();
    if (!timeline)
        return timeline.error();
    auto fence = timeline->create_fence(1, "syncway-vm-binary");
    if (!fence)
        return fence.error();
    int fd = -1;
    if (int r = syncobj_create(dev, 0, &fd); r != 0)
        return make_error(-r, std::string("syncobj_create: ") + syncobj_last_error());
    UniqueFd binary(fd);
    if (int r = syncobj_import_sync_file(dev, binary.get(), 0, fence->get()); r != 0)
        return make_error(-r, std::string("syncobj_import_sync_file at point 0: ") + syncobj_last_error());
    auto state_of = [&](enum syncobj_point_state& state) {
        int error = 0;
        return syncobj_point_state(dev, binary.get(), 0, &state, &error);
    };
    enum syncobj_point_state state{};
    if (int r = state_of(state); r != 0)
        return make_error(-r, std::string("syncobj_point_state of point 0: ") + syncobj_last_error());
    if (state != SYNCOBJ_POINT_PENDING)
        return wrong("point 0 of a binary syncobj holding an unsignaled sw_sync fence reads " +
                     std::to_string(state) + ", expected pending (" + std::to_string(SYNCOBJ_POINT_PENDING) + ")");
    if (auto s = timeline->advance(1); !s)
        return s;
    if (int r = state_of(state); r != 0)
        return make_error(-r, std::string("syncobj_point_state of point 0: ") + syncobj_last_error());
    if (state != SYNCOBJ_POINT_SIGNALED)
        return wrong("point 0 reads " + std::to_string(state) + " after its fence signaled, expected signaled");
    std::printf("binary syncobj (point 0) holding a sw_sync fence: pending while the fence was, signaled after\n");
    return Ok{};
}

Status probe_import_sw_sync()
{
    auto dev = open_backend(SYNCOBJ_BACKEND_AUTO);
    if (!dev)
        return dev.error();
    if (auto s = expect_binary_point_follows_fence(dev->get()); !s)
        return s;
    auto timeline = SwSyncTimeline::open();
    if (!timeline)
        return timeline.error();
    auto fence = timeline->create_fence(1, "syncway-vm");
    if (!fence)
        return fence.error();
    return expect_point_follows_fence(dev->get(), fence->get(), "sw_sync fence", [&] { return timeline->advance(1); });
}

Status probe_import_vgem()
{
    auto dev = open_backend(SYNCOBJ_BACKEND_AUTO);
    if (!dev)
        return dev.error();
    auto buf = VgemBuffer::create(64, 64);
    if (!buf)
        return buf.error();
    auto fence = buf->attach_write_fence();
    if (!fence)
        return fence.error();
    // What a reader must wait for: the writers' fences, i.e. ours.
    dma_buf_export_sync_file exp{DMA_BUF_SYNC_READ, -1};
    if (ioctl_retry(buf->dmabuf(), DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &exp) != 0)
        return sys_error("DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
    UniqueFd sync_file(exp.fd);
    // Implicit sync seen by a CPU reader: the dma-buf itself is not readable-ready either.
    pollfd p{buf->dmabuf(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0)
        return wrong("poll(POLLIN) on the vgem dma-buf is ready while its write fence is unsignaled");
    auto s = expect_point_follows_fence(dev->get(), sync_file.get(), "vgem write fence (exported sync_file)",
                                        [&] { return buf->signal_fence(*fence); });
    if (!s)
        return s;
    if (::poll(&p, 1, 1000) != 1)
        return wrong("poll(POLLIN) on the vgem dma-buf not ready after VGEM_FENCE_SIGNAL");
    return Ok{};
}

} // namespace

} // namespace syncway::vm

int main(int argc, char** argv)
{
    using namespace syncway::vm;
    const char* usage =
        "usage: vm-fence-probe COMMAND\n"
        "syncobj/ against the kernel's fences (run inside the VM tier; needs syncobjd for the service).\n"
        "  backends        forced /dev/syncobj and DRM backends are refused (ENODEV), auto picks the service\n"
        "  kernel-backends (6.12) auto and forced drm use virtio-gpu's kernel timelines; the service can be forced\n"
        "  import-sw-sync  a sw_sync fence imported at a timeline point signals it exactly when it signals;\n"
        "                  imported as a binary syncobj, its point 0 reads pending until then\n"
        "  import-vgem     the same for vgem's implicit write fence, exported as a sync_file\n"
        "  drm-wait-before-signal  (6.12, root) submit, wait and signal a DRM-backend point in three processes\n"
        "  drm-signaler-died       (6.12, root) a signaler process exits unsignaled: waiters see EOWNERDEAD\n"
        "  drm-submit-no-sw-sync   (6.12) as uid 65534, submit fails with EOPNOTSUPP naming sw_sync's path\n"
        "  host-kernel-points      (6.12, root) the compositor's host on kernel syncobjs: binary point 0 and a\n"
        "                          point waited for before submission stay quiet until their fences signal\n";
    if (argc != 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::fputs(usage, argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    std::string cmd = argv[1];
    syncway::Status s = cmd == "backends"          ? probe_backends()
                        : cmd == "kernel-backends" ? probe_kernel_backends()
                        : cmd == "import-sw-sync" ? probe_import_sw_sync()
                        : cmd == "import-vgem"    ? probe_import_vgem()
                        : cmd == "drm-wait-before-signal" ? probe_drm_wait_before_signal()
                        : cmd == "drm-signaler-died"      ? probe_drm_signaler_died()
                        : cmd == "drm-submit-no-sw-sync"  ? probe_drm_submit_without_sw_sync()
                        : cmd == "host-kernel-points"     ? probe_host_kernel_points()
                                                  : syncway::make_error(EINVAL, "unknown command '" + cmd + "'");
    if (s)
        return 0;
    std::fprintf(stderr, "vm-fence-probe %s: FAIL: %s\n", cmd.c_str(), s.error().message.c_str());
    return 1;
}
