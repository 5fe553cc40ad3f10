// The kernel's /dev/syncobj device (RFC uapi, syncobj_dev_uapi.hpp): syncobj operations on
// fds, with no DRM device. Every operation returns 0 or -errno, like the ioctls.
#pragma once

#include <syncway/result.hpp>
#include <syncway/unique_fd.hpp>

#include <cstdint>
#include <string>

namespace syncway::syncobj {

class SyncobjDevDevice {
public:
    // Where the device node is.
    static constexpr const char* kPath = "/dev/syncobj";
    // The client library's: kPath, unless $SYNCWAY_SYNCOBJ_DEV names another (tests, odd systems).
    static std::string default_path();
    // Opens `path` and proves it speaks the uapi this build was written for: CREATE must give
    // a kernel syncobj fd (anon_inode:syncobj_file) that QUERY accepts. ENODEV otherwise, with
    // the reason (absent, no permission, not this uapi).
    static Result<SyncobjDevDevice> open(const std::string& path);

    const std::string& path() const noexcept { return path_; }

    int create(uint32_t flags, int& syncobj_fd) const;
    int wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec, uint32_t flags,
             uint32_t* first_signaled) const;
    int reset(const int* fds, uint32_t count) const;
    // points may be null (binary signal).
    int signal(const int* fds, const uint64_t* points, uint32_t count) const;
    int query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags) const;
    int transfer(int dst_fd, uint64_t dst_point, int src_fd, uint64_t src_point, uint32_t flags) const;
    int eventfd(int syncobj_fd, uint64_t point, int event_fd, uint32_t flags) const;
    int export_sync_file(int syncobj_fd, uint64_t point, int& sync_file) const;
    int import_sync_file(int syncobj_fd, uint64_t point, int sync_file) const;

    // Fence errors, which WAIT and QUERY hide (see DrmSyncobjDevice::snapshot for why a snapshot
    // is taken before the point can fail): a new binary syncobj holding the fence of `point`.
    int snapshot(int syncobj_fd, uint64_t point, UniqueFd& binary) const;
    // The snapshot's fence error in the syncobj API's terms (syncobj_error_of); 0 for none,
    // pending, or unreadable. EXPORT_SYNC_FILE + SYNC_IOC_FILE_INFO + close.
    int fence_error(int binary_fd) const;

private:
    SyncobjDevDevice(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    int call(unsigned long request, void* args) const;
    UniqueFd fd_;
    std::string path_;
};

} // namespace syncway::syncobj
