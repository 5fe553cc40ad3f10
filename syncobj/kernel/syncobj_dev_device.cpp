#include "syncobj_dev_device.hpp"

#include "../service/fd_kind.hpp"
#include "sync_file_status.hpp"
#include "syncobj_dev_uapi.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace syncway::syncobj {

namespace {
uint64_t user_ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }
} // namespace

std::string SyncobjDevDevice::default_path()
{
    const char* env = getenv("SYNCWAY_SYNCOBJ_DEV");
    return env && *env ? env : kPath;
}

Result<SyncobjDevDevice> SyncobjDevDevice::open(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        int e = errno;
        return make_error(ENODEV, path + (e == ENOENT ? ": no such device" : ": cannot open: " + std::string(strerror(e))));
    }
    SyncobjDevDevice dev(std::move(fd), path);
    // A device of another kind (or another revision of the RFC) must not be taken for ours:
    // the probe creates a timeline, checks what came back, and queries it.
    int tl = -1;
    if (int r = dev.create(uapi::kCreateSignaled, tl))
        return make_error(ENODEV, path + ": does not speak the /dev/syncobj RFC uapi (CREATE: " +
                                      std::string(strerror(-r)) + ")");
    // Owned only once it is known to be a syncobj: a device of another kind that "succeeds"
    // at this ioctl number can leave any number in the fd field (a DRM node refuses it with
    // ENOTTY on 6.1, as /dev/null does), and closing that number would close a caller's fd.
    FdInfo info = inspect_fd(tl);
    if (info.kind != FdKind::KernelSyncobj)
        return make_error(ENODEV, path + ": CREATE gave fd " + std::to_string(tl) + " (" + describe_fd(tl, info) +
                                      "), not a new kernel syncobj: not the /dev/syncobj RFC uapi");
    UniqueFd timeline(tl);
    uint64_t point = ~0ull;
    if (int r = dev.query(&tl, &point, 1, 0))
        return make_error(ENODEV, path + ": QUERY of a fresh timeline failed (" + std::string(strerror(-r)) +
                                      "): not the /dev/syncobj RFC uapi");
    return dev;
}

int SyncobjDevDevice::call(unsigned long request, void* args) const
{
    int r;
    do
        r = ioctl(fd_.get(), request, args);
    while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r == 0 ? 0 : -errno;
}

int SyncobjDevDevice::create(uint32_t flags, int& syncobj_fd) const
{
    uapi::CreateArgs args{};
    args.flags = flags;
    int r = call(uapi::kIocCreate, &args);
    if (r == 0)
        syncobj_fd = args.fd;
    return r;
}

int SyncobjDevDevice::wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
                           uint32_t flags, uint32_t* first_signaled) const
{
    uapi::WaitArgs args{};
    args.fds = user_ptr(fds);
    args.points = user_ptr(points);
    args.count = count;
    args.timeout_nsec = timeout_nsec;
    args.flags = flags;
    // Interrupted waits restart from the same absolute timeout (EINTR is retried in call()).
    int r = call(uapi::kIocWait, &args);
    if (r == 0 && first_signaled)
        *first_signaled = args.first_signaled;
    return r;
}

int SyncobjDevDevice::reset(const int* fds, uint32_t count) const
{
    uapi::ArrayArgs args{};
    args.fds = user_ptr(fds);
    args.count = count;
    return call(uapi::kIocReset, &args);
}

int SyncobjDevDevice::signal(const int* fds, const uint64_t* points, uint32_t count) const
{
    uapi::ArrayArgs args{};
    args.fds = user_ptr(fds);
    args.points = user_ptr(points);
    args.count = count;
    return call(uapi::kIocSignal, &args);
}

int SyncobjDevDevice::query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags) const
{
    uapi::ArrayArgs args{};
    args.fds = user_ptr(fds);
    args.points = user_ptr(points);
    args.count = count;
    args.flags = flags;
    return call(uapi::kIocQuery, &args);
}

int SyncobjDevDevice::transfer(int dst_fd, uint64_t dst_point, int src_fd, uint64_t src_point, uint32_t flags) const
{
    uapi::TransferArgs args{};
    args.src_fd = src_fd;
    args.dst_fd = dst_fd;
    args.src_point = src_point;
    args.dst_point = dst_point;
    args.flags = flags;
    return call(uapi::kIocTransfer, &args);
}

int SyncobjDevDevice::eventfd(int syncobj_fd, uint64_t point, int event_fd, uint32_t flags) const
{
    uapi::EventfdArgs args{};
    args.syncobj_fd = syncobj_fd;
    args.eventfd = event_fd;
    args.point = point;
    args.flags = flags;
    return call(uapi::kIocEventfd, &args);
}

int SyncobjDevDevice::export_sync_file(int syncobj_fd, uint64_t point, int& sync_file) const
{
    uapi::SyncFileArgs args{};
    args.syncobj_fd = syncobj_fd;
    args.sync_file_fd = -1;
    args.point = point;
    int r = call(uapi::kIocExportSyncFile, &args);
    if (r == 0)
        sync_file = args.sync_file_fd;
    return r;
}

int SyncobjDevDevice::import_sync_file(int syncobj_fd, uint64_t point, int sync_file) const
{
    uapi::SyncFileArgs args{};
    args.syncobj_fd = syncobj_fd;
    args.sync_file_fd = sync_file;
    args.point = point;
    return call(uapi::kIocImportSyncFile, &args);
}

int SyncobjDevDevice::snapshot(int syncobj_fd, uint64_t point, UniqueFd& binary) const
{
    int fd = -1;
    if (int r = create(0, fd))
        return r;
    UniqueFd snap(fd);
    if (int r = transfer(snap.get(), 0, syncobj_fd, point, 0))
        return r;
    binary = std::move(snap);
    return 0;
}

int SyncobjDevDevice::fence_error(int binary_fd) const
{
    int fd = -1;
    if (export_sync_file(binary_fd, 0, fd) != 0)
        return 0;  // a check that cannot run does not turn a completed wait into a failure
    UniqueFd sync_file(fd);
    SyncFileStatus st;
    return sync_file_status(sync_file.get(), st) == 0 ? syncobj_error_of(st) : 0;
}

} // namespace syncway::syncobj
