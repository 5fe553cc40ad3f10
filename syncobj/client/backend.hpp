// One interface over the three ways timelines can exist (kernel device, DRM render node,
// userspace service); the C API in syncobj.h dispatches to it. Every call returns 0 or
// -errno and leaves a sentence in last_error() on failure.
#pragma once

#include <syncobj/syncobj.h>

#include <cstdint>
#include <string>

namespace syncway::syncobj {

// The detail of the last failure in this thread, as dlerror() does for the C API.
void set_last_error(std::string message);
const char* last_error();
inline int fail(int error, std::string message)
{
    set_last_error(std::move(message));
    return -error;
}

class Backend {
public:
    virtual ~Backend() = default;
    virtual syncobj_backend kind() const = 0;
    virtual int create(uint32_t flags, int* fd) = 0;
    virtual int wait(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout_nsec,
                     uint32_t flags, uint32_t* first) = 0;
    virtual int reset(const int* fds, uint32_t count) = 0;
    virtual int signal(const int* fds, const uint64_t* points, uint32_t count) = 0;
    virtual int query(const int* fds, uint64_t* points, uint32_t count, uint32_t flags) = 0;
    virtual int transfer(int dst, uint64_t dst_point, int src, uint64_t src_point, uint32_t flags) = 0;
    virtual int eventfd(int fd, uint64_t point, int event_fd, uint32_t flags) = 0;
    virtual int export_sync_file(int fd, uint64_t point, int* sync_file) = 0;
    virtual int import_sync_file(int fd, uint64_t point, int sync_file) = 0;
    virtual int submit(int fd, uint64_t point, int* signaler) = 0;
    virtual int signaler_signal(int signaler) = 0;
    virtual int point_state(int fd, uint64_t point, enum syncobj_point_state* state, int* error) = 0;
    // syncobj_fd_close: backends that cache per-fd state forget it first.
    virtual int close_fd(int fd);
};

} // namespace syncway::syncobj
