#include "drm_syncobj_device.hpp"

#include "sw_sync_timeline.hpp"

#include <syncobj/syncobj.h>

#include <xf86drm.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace syncway::syncobj {

namespace {
const unsigned long kIoctlSyncobjEventfd = DRM_IOWR(0xCF, struct drm_syncobj_eventfd_args);

int ret_errno(int r) { return r == 0 ? 0 : (errno ? -errno : -EIO); }
} // namespace

Result<DrmSyncobjDevice> DrmSyncobjDevice::open(const std::string& path, Need need)
{
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd)
        return make_error(ENODEV, path + ": cannot open: " + strerror(errno));
    uint64_t cap = 0;
    if (drmGetCap(fd.get(), DRM_CAP_SYNCOBJ_TIMELINE, &cap) != 0 || !cap)
        return make_error(ENODEV, path + ": no timeline syncobjs (DRM_CAP_SYNCOBJ_TIMELINE)");
    drm_syncobj_eventfd_args probe{};
    probe.handle = 0;
    probe.fd = -1;
    // A kernel with the ioctl looks the handle up first: handle 0 never exists → ENOENT.
    bool has_eventfd = ioctl(fd.get(), kIoctlSyncobjEventfd, &probe) != 0 && errno == ENOENT;
    if (!has_eventfd && need == Need::TimelinesAndEventfd)
        return make_error(ENODEV, path + ": no DRM_IOCTL_SYNCOBJ_EVENTFD (probe gave " +
                                      std::string(strerror(errno)) + ", kernel older than 6.6?)");
    return DrmSyncobjDevice(std::move(fd), path, has_eventfd);
}

Result<DrmSyncobjDevice> DrmSyncobjDevice::open_first(Need need)
{
    std::vector<std::string> nodes;
    if (DIR* dir = opendir("/dev/dri")) {
        while (dirent* e = readdir(dir))
            if (std::strncmp(e->d_name, "renderD", 7) == 0)
                nodes.push_back(std::string("/dev/dri/") + e->d_name);
        closedir(dir);
    }
    if (nodes.empty())
        return make_error(ENODEV, "no DRM render node (/dev/dri/renderD*)");
    std::sort(nodes.begin(), nodes.end());
    std::string reasons;
    for (const auto& node : nodes) {
        auto dev = open(node, need);
        if (dev)
            return dev;
        reasons += (reasons.empty() ? "" : "; ") + dev.error().message;
    }
    return make_error(ENODEV, reasons);
}

int DrmSyncobjDevice::fd_to_handle(int syncobj_fd, uint32_t& handle) const
{
    return ret_errno(drmSyncobjFDToHandle(fd_.get(), syncobj_fd, &handle));
}

int DrmSyncobjDevice::handle_to_fd(uint32_t handle, int& syncobj_fd) const
{
    return ret_errno(drmSyncobjHandleToFD(fd_.get(), handle, &syncobj_fd));
}

void DrmSyncobjDevice::destroy(uint32_t handle) const { drmSyncobjDestroy(fd_.get(), handle); }

int DrmSyncobjDevice::eventfd(uint32_t handle, uint64_t point, int event_fd, uint32_t flags) const
{
    drm_syncobj_eventfd_args args{};
    args.handle = handle;
    args.point = point;
    args.fd = event_fd;
    args.flags = flags;
    return ioctl(fd_.get(), kIoctlSyncobjEventfd, &args) == 0 ? 0 : -errno;
}

int DrmSyncobjDevice::query(uint32_t* handles, uint64_t* points, uint32_t count, uint32_t flags) const
{
    return ret_errno(drmSyncobjQuery2(fd_.get(), handles, points, count, flags));
}

int DrmSyncobjDevice::signal(const uint32_t* handles, const uint64_t* points, uint32_t count) const
{
    return ret_errno(drmSyncobjTimelineSignal(fd_.get(), handles, const_cast<uint64_t*>(points), count));
}

int DrmSyncobjDevice::timeline_wait(const uint32_t* handles, const uint64_t* points, uint32_t count,
                                    int64_t timeout_nsec, uint32_t flags, uint32_t* first) const
{
    return ret_errno(drmSyncobjTimelineWait(fd_.get(), const_cast<uint32_t*>(handles), const_cast<uint64_t*>(points),
                                            count, timeout_nsec, flags, first));
}

int DrmSyncobjDevice::snapshot(uint32_t handle, uint64_t point, uint32_t& binary) const
{
    if (int r = ret_errno(drmSyncobjCreate(fd_.get(), 0, &binary)))
        return r;
    if (int r = ret_errno(drmSyncobjTransfer(fd_.get(), binary, 0, handle, point, 0))) {
        destroy(binary);
        binary = 0;
        return r;
    }
    return 0;
}

int DrmSyncobjDevice::fence_error(uint32_t binary) const
{
    SyncFileStatus st;
    // A check that cannot run (fd limit...) does not turn a completed wait into a failure.
    if (fence_status(binary, st) != 0)
        return 0;
    return syncobj_error_of(st);
}

int DrmSyncobjDevice::fence_status(uint32_t binary_handle, SyncFileStatus& out) const
{
    int fd = -1;
    if (int r = ret_errno(drmSyncobjExportSyncFile(fd_.get(), binary_handle, &fd)))
        return r;
    UniqueFd sync_file(fd);
    return sync_file_status(sync_file.get(), out);
}

} // namespace syncway::syncobj
