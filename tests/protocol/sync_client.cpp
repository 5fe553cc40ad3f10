#include "sync_client.hpp"

#include "syncway/heaps/allocator.hpp"
#include "syncway/heaps/buffer_layout.hpp"
#include "syncway/testing/shm_buffers.hpp"

#include <drm_fourcc.h>

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <stdexcept>
#include <type_traits>

namespace syncway::test {

namespace {

[[noreturn]] void fail(const std::string& what, int r)
{
    throw std::runtime_error(what + ": " + std::strerror(-r) + " (" + syncobj_last_error() + ")");
}

int64_t deadline_after(std::chrono::milliseconds timeout)
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return int64_t(now.tv_sec) * 1000000000 + now.tv_nsec +
           std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
}

} // namespace

// ---- SyncobjDevice -------------------------------------------------------------------------

SyncobjDevice::SyncobjDevice(const std::string& service_socket)
{
    setenv("SYNCWAY_SYNCOBJ_SOCKET", service_socket.c_str(), 1);
    if (int r = syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev_))
        fail("syncobj_open(service at " + service_socket + ")", r);
}

SyncobjDevice::SyncobjDevice(Kernel)
{
    if (int r = syncobj_open(SYNCOBJ_BACKEND_DRM, &dev_))
        fail("syncobj_open(drm)", r);
}

bool SyncobjDevice::kernel_requested()
{
    const char* backend = std::getenv("SYNCOBJ_TEST_BACKEND");
    return backend && std::strcmp(backend, "drm") == 0;
}

SyncobjDevice::~SyncobjDevice() { syncobj_close(dev_); }

UniqueFd SyncobjDevice::create_timeline() const
{
    int fd = -1;
    if (int r = syncobj_create(dev_, 0, &fd))
        fail("syncobj_create", r);
    return UniqueFd(fd);
}

void SyncobjDevice::signal(int timeline, uint64_t point) const
{
    if (int r = syncobj_signal(dev_, &timeline, &point, 1))
        fail("syncobj_signal", r);
}

UniqueFd SyncobjDevice::submit(int timeline, uint64_t point) const
{
    int signaler = -1;
    if (int r = syncobj_submit(dev_, timeline, point, &signaler))
        fail("syncobj_submit", r);
    return UniqueFd(signaler);
}

void SyncobjDevice::signal_with(int signaler) const
{
    if (int r = syncobj_signaler_signal(dev_, signaler))
        fail("syncobj_signaler_signal", r);
}

enum syncobj_point_state SyncobjDevice::state(int timeline, uint64_t point, int* error) const
{
    enum syncobj_point_state state{};
    if (int r = syncobj_point_state(dev_, timeline, point, &state, error))
        fail("syncobj_point_state", r);
    return state;
}

bool SyncobjDevice::wait_signaled(int timeline, uint64_t point, std::chrono::milliseconds timeout) const
{
    int r = syncobj_wait(dev_, &timeline, &point, 1, deadline_after(timeout), SYNCOBJ_WAIT_FOR_SUBMIT, nullptr);
    if (r == -ETIME)
        return false;
    if (r)
        fail("syncobj_wait", r);
    return true;
}

// ---- Buffer -----------------------------------------------------------------------------

Buffer::Buffer(wl_shm* shm, int width, int height, Color color) : width_(width), height_(height)
{
    buffer_ = testing::solid_shm_buffer(shm, width, height, color.xrgb());
    if (!buffer_)
        throw std::runtime_error("a " + std::to_string(width) + "x" + std::to_string(height) + " wl_shm buffer: " +
                                 std::strerror(errno));
}

Buffer::Buffer(zwp_linux_dmabuf_v1* dmabuf, int width, int height, Color color)
    : width_(width), height_(height)
{
    auto layout = heaps::compute_layout(DRM_FORMAT_XRGB8888, uint32_t(width), uint32_t(height));
    if (!layout)
        throw std::runtime_error("layout: " + layout.error().message);
    heaps::AllocationRequest request;
    request.size = layout->alloc_size;
    request.debug_name = "syncway-protocol-test";
    auto allocated = heaps::Allocator().allocate(request);
    if (!allocated)
        throw std::runtime_error("allocation: " + allocated.error().message);
    {
        auto mapping = allocated->map();
        if (!mapping)
            throw std::runtime_error("map: " + mapping.error().message);
        for (int y = 0; y < height; ++y) {
            auto* row = reinterpret_cast<uint32_t*>(static_cast<char*>(mapping->data()) + size_t(y) * layout->stride);
            std::fill(row, row + width, color.xrgb());
        }
    }
    zwp_linux_buffer_params_v1* params = zwp_linux_dmabuf_v1_create_params(dmabuf);
    uint64_t linear = DRM_FORMAT_MOD_LINEAR;
    zwp_linux_buffer_params_v1_add(params, allocated->fd.get(), 0, 0, layout->stride, uint32_t(linear >> 32),
                                   uint32_t(linear));
    buffer_ = zwp_linux_buffer_params_v1_create_immed(params, width, height, DRM_FORMAT_XRGB8888, 0);
    zwp_linux_buffer_params_v1_destroy(params);
}

Buffer::~Buffer() { wl_buffer_destroy(buffer_); }

// ---- Client --------------------------------------------------------------------------------

namespace {

const wl_pointer_listener pointer_listener = {
    .enter = [](void* data, wl_pointer*, uint32_t serial, wl_surface*, wl_fixed_t, wl_fixed_t) {
        *static_cast<uint32_t*>(data) = serial;
    },
    .leave = [](void*, wl_pointer*, uint32_t, wl_surface*) {},
    .motion = [](void*, wl_pointer*, uint32_t, wl_fixed_t, wl_fixed_t) {},
    .button = [](void*, wl_pointer*, uint32_t, uint32_t, uint32_t, uint32_t) {},
    .axis = [](void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {},
};

} // namespace

void Client::global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version)
{
    auto* self = static_cast<Client*>(data);
    std::string_view iface(interface);
    self->globals_.emplace_back(iface);
    auto bind = [&](auto*& slot, const wl_interface* interface, uint32_t v) {
        using T = std::remove_reference_t<decltype(*slot)>;
        slot = self->own(static_cast<T*>(wl_registry_bind(registry, name, interface, v)));
    };
    if (self->core_->bind(registry, name, iface))
        return;
    if (iface == wl_seat_interface.name) {
        bind(self->seat_, &wl_seat_interface, 1);
        self->pointer_ = self->own(wl_seat_get_pointer(self->seat_));
        wl_pointer_add_listener(self->pointer_, &pointer_listener, &self->enter_serial_);
    } else if (iface == zwp_linux_dmabuf_v1_interface.name && version >= 3)
        bind(self->dmabuf_, &zwp_linux_dmabuf_v1_interface, 3);
    else if (iface == wp_linux_drm_syncobj_manager_v1_interface.name)
        bind(self->syncobj_, &wp_linux_drm_syncobj_manager_v1_interface, 1);
}

Client::Client(const std::string& runtime_dir, const std::string& socket)
{
    std::string path = runtime_dir + "/" + socket;
    display_ = wl_display_connect(path.c_str());
    if (!display_)
        throw std::runtime_error("cannot connect to " + path);
    registry_ = own(wl_display_get_registry(display_));
    static const wl_registry_listener listener = {.global = &Client::global,
                                                  .global_remove = [](void*, wl_registry*, uint32_t) {}};
    wl_registry_add_listener(registry_, &listener, this);
    if (wl_display_roundtrip(display_) < 0 || !core_->complete()) {
        bool refused = wl_display_get_error(display_) != 0;
        release();  // no destructor runs for a constructor that throws
        throw std::runtime_error(refused ? "the compositor ended the connection while the globals were bound"
                                         : "the compositor lacks wl_compositor, wl_shm or xdg_wm_base");
    }
}

Client::~Client() { release(); }

void Client::release()
{
    // Client-side memory only: the compositor sees a client that just disconnects, and
    // cleans up after it (what the tests check).
    core_.reset();
    for (wl_proxy* proxy : owned_)
        wl_proxy_destroy(proxy);
    owned_.clear();
    if (display_)
        wl_display_disconnect(display_);
    display_ = nullptr;
}

bool Client::roundtrip() { return wl_display_roundtrip(display_) >= 0; }

std::optional<ProtocolError> Client::error() const
{
    if (wl_display_get_error(display_) != EPROTO)
        return std::nullopt;
    const wl_interface* interface = nullptr;
    uint32_t id = 0;
    uint32_t code = wl_display_get_protocol_error(display_, &interface, &id);
    return ProtocolError{interface ? interface->name : "?", code};
}

wp_linux_drm_syncobj_timeline_v1* Client::import(int timeline_fd)
{
    return own(wp_linux_drm_syncobj_manager_v1_import_timeline(syncobj_, timeline_fd));
}

// ---- Surface -------------------------------------------------------------------------------

Surface::Surface(Client& client)
    : client_(client), toplevel_(std::make_unique<testing::Toplevel>(client.compositor(), client.wm_base(), nullptr))
{
    while (!toplevel_->configured() && client.roundtrip()) {
    }
}

Surface::Surface(Client& client, NoRole) : client_(client)
{
    surface_ = wl_compositor_create_surface(client.compositor());
}

Surface::Surface(Client& client, Surface& parent, int x, int y, bool desync) : client_(client)
{
    surface_ = wl_compositor_create_surface(client.compositor());
    subsurface_ = wl_subcompositor_get_subsurface(client.subcompositor(), surface_, parent.get());
    wl_subsurface_set_position(subsurface_, x, y);
    if (desync)
        wl_subsurface_set_desync(subsurface_);
}

Surface::~Surface()
{
    if (sync_)
        wp_linux_drm_syncobj_surface_v1_destroy(sync_);
    if (subsurface_)
        wl_subsurface_destroy(subsurface_);
    toplevel_.reset();
    if (surface_)
        wl_surface_destroy(surface_);
}

wp_linux_drm_syncobj_surface_v1* Surface::sync()
{
    if (!sync_)
        sync_ = wp_linux_drm_syncobj_manager_v1_get_surface(client_.syncobj(), get());
    return sync_;
}

void Surface::destroy_sync()
{
    wp_linux_drm_syncobj_surface_v1_destroy(sync_);
    sync_ = nullptr;
}

void Surface::destroy_surface()
{
    toplevel_.reset();
    if (subsurface_)
        wl_subsurface_destroy(std::exchange(subsurface_, nullptr));
    if (surface_)
        wl_surface_destroy(std::exchange(surface_, nullptr));
}

void Surface::attach(const Buffer& buffer)
{
    wl_surface_attach(get(), buffer.get(), 0, 0);
    wl_surface_damage_buffer(get(), 0, 0, buffer.width(), buffer.height());
}

void Surface::set_window_geometry(int x, int y, int width, int height)
{
    if (!toplevel_)
        throw std::logic_error("set_window_geometry: not a toplevel");
    xdg_surface_set_window_geometry(toplevel_->xdg(), x, y, width, height);
}

void Surface::set_points(wp_linux_drm_syncobj_timeline_v1* acquire, uint64_t acquire_point,
                         wp_linux_drm_syncobj_timeline_v1* release, uint64_t release_point)
{
    if (acquire)
        wp_linux_drm_syncobj_surface_v1_set_acquire_point(sync(), acquire, uint32_t(acquire_point >> 32),
                                                          uint32_t(acquire_point));
    if (release)
        wp_linux_drm_syncobj_surface_v1_set_release_point(sync(), release, uint32_t(release_point >> 32),
                                                          uint32_t(release_point));
}

} // namespace syncway::test
