// Kernel syncobjs through a DRM render node, on fds: each operation imports the fds as
// handles for its duration (the fd is the object; handles are this device's private names).
// Signalers are sw_sync timelines (where debugfs allows), and waits and point_state report
// fence errors the syncobj uapi hides, read through sync_files (syncobj/README.md).
#pragma once

#include "../kernel/drm_syncobj_device.hpp"
#include "backend.hpp"

#include <memory>
#include <string>

namespace syncway::syncobj {

class DrmBackend final : public Backend {
public:
    explicit DrmBackend(DrmSyncobjDevice dev) : dev_(std::move(dev)) {}

    syncobj_backend kind() const override { return SYNCOBJ_BACKEND_DRM; }
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
    int binary_point_state(uint32_t handle, enum syncobj_point_state* state, int* error);

    DrmSyncobjDevice dev_;
};

} // namespace syncway::syncobj
