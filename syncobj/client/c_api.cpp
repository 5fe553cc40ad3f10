// The C entry points of syncobj.h: backend selection at open, then dispatch.
#include "backend.hpp"
#include "drm_backend.hpp"
#include "service_backend.hpp"
#include "syncobj_dev_backend.hpp"

#include <syncobj/timeline_host.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

using namespace syncway::syncobj;

struct syncobj_device {
    std::unique_ptr<Backend> backend;
};

namespace syncway::syncobj {

namespace {
thread_local std::string t_last_error;

syncway::Result<std::unique_ptr<Backend>> open_syncobj_dev()
{
    auto dev = SyncobjDevDevice::open(SyncobjDevDevice::default_path());
    if (!dev)
        return dev.error();
    return std::unique_ptr<Backend>(std::make_unique<SyncobjDevBackend>(std::move(dev.value())));
}

syncway::Result<std::unique_ptr<Backend>> open_drm()
{
    // The client API offers eventfd waits, which a kernel without SYNCOBJ_EVENTFD cannot give.
    auto dev = DrmSyncobjDevice::open_first(DrmSyncobjDevice::Need::TimelinesAndEventfd);
    if (!dev)
        return dev.error();
    return std::unique_ptr<Backend>(std::make_unique<DrmBackend>(std::move(dev.value())));
}

syncway::Result<std::unique_ptr<Backend>> open_service(uint32_t flags)
{
    auto b = ServiceBackend::connect({}, (flags & SYNCOBJ_OPEN_CACHE_FD_IDENTITY) != 0);
    if (!b)
        return b.error();
    return std::unique_ptr<Backend>(std::move(b.value()));
}

syncway::Result<std::unique_ptr<Backend>> open_backend(syncobj_backend which, uint32_t flags)
{
    switch (which) {
    case SYNCOBJ_BACKEND_SYNCOBJ_DEV:
        return open_syncobj_dev();
    case SYNCOBJ_BACKEND_DRM:
        return open_drm();
    case SYNCOBJ_BACKEND_SERVICE:
        return open_service(flags);
    case SYNCOBJ_BACKEND_AUTO:
        break;
    }
    std::string reasons;
    for (auto b : {SYNCOBJ_BACKEND_SYNCOBJ_DEV, SYNCOBJ_BACKEND_DRM, SYNCOBJ_BACKEND_SERVICE}) {
        auto r = open_backend(b, flags);
        if (r)
            return r;
        reasons += std::string(reasons.empty() ? "" : "; ") + syncobj_backend_name(b) + ": " + r.error().message;
    }
    return syncway::make_error(ENODEV, "no syncobj backend works: " + reasons);
}
} // namespace

int Backend::close_fd(int fd)
{
    if (::close(fd) == 0)
        return 0;
    int e = errno;
    return fail(e, "cannot close fd " + std::to_string(fd) + ": " + strerror(e));
}

static std::string to_hex(uint32_t v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%x", v);
    return buf;
}

void set_last_error(std::string message) { t_last_error = std::move(message); }
const char* last_error() { return t_last_error.c_str(); }

} // namespace syncway::syncobj

extern "C" {

const char* syncobj_backend_name(enum syncobj_backend backend)
{
    switch (backend) {
    case SYNCOBJ_BACKEND_AUTO:
        return "auto";
    case SYNCOBJ_BACKEND_SYNCOBJ_DEV:
        return "syncobj-dev";
    case SYNCOBJ_BACKEND_DRM:
        return "drm";
    case SYNCOBJ_BACKEND_SERVICE:
        return "service";
    }
    return "unknown";
}

int syncobj_open(enum syncobj_backend backend, struct syncobj_device** out)
{
    return syncobj_open_flags(backend, 0, out);
}

int syncobj_open_flags(enum syncobj_backend backend, uint32_t flags, struct syncobj_device** out)
{
    if (!out)
        return fail(EFAULT, "out is NULL");
    *out = nullptr;
    if (flags & ~SYNCOBJ_OPEN_CACHE_FD_IDENTITY)
        return fail(EINVAL, "unknown syncobj_open flags 0x" + to_hex(flags & ~SYNCOBJ_OPEN_CACHE_FD_IDENTITY));
    if (backend == SYNCOBJ_BACKEND_AUTO) {
        if (const char* env = getenv(kBackendEnv); env && *env) {
            bool known = false;
            for (auto b : {SYNCOBJ_BACKEND_AUTO, SYNCOBJ_BACKEND_SYNCOBJ_DEV, SYNCOBJ_BACKEND_DRM, SYNCOBJ_BACKEND_SERVICE})
                if (std::strcmp(env, syncobj_backend_name(b)) == 0) {
                    backend = b;
                    known = true;
                }
            if (!known)
                return fail(EINVAL, std::string("$") + kBackendEnv + "=\"" + env +
                                        "\" is not one of auto, syncobj-dev, drm, service");
        }
    } else if (backend > SYNCOBJ_BACKEND_SERVICE || backend < SYNCOBJ_BACKEND_AUTO) {
        return fail(EINVAL, "unknown backend " + std::to_string(static_cast<int>(backend)));
    }
    auto b = open_backend(backend, flags);
    if (!b)
        return fail(b.error().code, std::string("backend ") + syncobj_backend_name(backend) + ": " + b.error().message);
    *out = new syncobj_device{std::move(b.value())};
    set_last_error({});
    return 0;
}

void syncobj_close(struct syncobj_device* dev) { delete dev; }

int syncobj_fd_close(struct syncobj_device* dev, int fd)
{
    if (fd < 0)
        return fail(EBADF, "fd " + std::to_string(fd) + " is not a file descriptor");
    return dev->backend->close_fd(fd);
}

enum syncobj_backend syncobj_backend_of(const struct syncobj_device* dev) { return dev->backend->kind(); }

const char* syncobj_last_error(void) { return last_error(); }

int syncobj_create(struct syncobj_device* dev, uint32_t flags, int* timeline_fd)
{
    return dev->backend->create(flags, timeline_fd);
}

int syncobj_wait(struct syncobj_device* dev, const int* fds, const uint64_t* points, uint32_t count,
                 int64_t timeout_nsec, uint32_t flags, uint32_t* first_signaled)
{
    return dev->backend->wait(fds, points, count, timeout_nsec, flags, first_signaled);
}

int syncobj_reset(struct syncobj_device* dev, const int* fds, uint32_t count)
{
    return dev->backend->reset(fds, count);
}

int syncobj_signal(struct syncobj_device* dev, const int* fds, const uint64_t* points, uint32_t count)
{
    return dev->backend->signal(fds, points, count);
}

int syncobj_query(struct syncobj_device* dev, const int* fds, uint64_t* points, uint32_t count, uint32_t flags)
{
    return dev->backend->query(fds, points, count, flags);
}

int syncobj_transfer(struct syncobj_device* dev, int dst_fd, uint64_t dst_point, int src_fd,
                     uint64_t src_point, uint32_t flags)
{
    return dev->backend->transfer(dst_fd, dst_point, src_fd, src_point, flags);
}

int syncobj_eventfd(struct syncobj_device* dev, int fd, uint64_t point, int event_fd, uint32_t flags)
{
    return dev->backend->eventfd(fd, point, event_fd, flags);
}

int syncobj_export_sync_file(struct syncobj_device* dev, int fd, uint64_t point, int* sync_file)
{
    return dev->backend->export_sync_file(fd, point, sync_file);
}

int syncobj_import_sync_file(struct syncobj_device* dev, int fd, uint64_t point, int sync_file)
{
    return dev->backend->import_sync_file(fd, point, sync_file);
}

int syncobj_submit(struct syncobj_device* dev, int fd, uint64_t point, int* signaler_fd)
{
    return dev->backend->submit(fd, point, signaler_fd);
}

int syncobj_signaler_signal(struct syncobj_device* dev, int signaler_fd)
{
    return dev->backend->signaler_signal(signaler_fd);
}

int syncobj_point_state(struct syncobj_device* dev, int fd, uint64_t point,
                        enum syncobj_point_state* state, int* error)
{
    return dev->backend->point_state(fd, point, state, error);
}

} // extern "C"
