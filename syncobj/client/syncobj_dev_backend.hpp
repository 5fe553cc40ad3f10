// Kernel syncobjs through /dev/syncobj (the RFC device): the fds go to the kernel as they are,
// with no handles to import; errors are translated to this API's promises (a closed fd is
// EBADF, an fd of another kind EINVAL, both named).
#pragma once

#include "../kernel/syncobj_dev_device.hpp"
#include "backend.hpp"

namespace syncway::syncobj {

class SyncobjDevBackend final : public Backend {
public:
    explicit SyncobjDevBackend(SyncobjDevDevice dev) : dev_(std::move(dev)) {}

    syncobj_backend kind() const override { return SYNCOBJ_BACKEND_SYNCOBJ_DEV; }
    int create(uint32_t flags, int* fd) override;
    int wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
             uint32_t flags, uint32_t* first) override;
    int reset(const int* fds, uint32_t count) override;
    int signal(const int* fds, const uint64_t* points, uint32_t count) override;
    int query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags) override;
    int transfer(int dst, uint64_t dst_point, int src, uint64_t src_point, uint32_t flags) override;
    int eventfd(int fd, uint64_t point, int event_fd, uint32_t flags) override;
    int export_sync_file(int fd, uint64_t point, int* sync_file) override;
    int import_sync_file(int fd, uint64_t point, int sync_file) override;
    int submit(int fd, uint64_t point, int* signaler) override;
    int signaler_signal(int signaler) override;
    int point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error) override;

private:
    // Turns the kernel's answer for `what` into this API's error, naming the bad fd.
    int check(int r, const char* what, const int* fds, uint32_t count) const;
    SyncobjDevDevice dev_;
};

} // namespace syncway::syncobj
