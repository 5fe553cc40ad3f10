// A Wayland client for the protocol suite: wayland-client, our generated linux-drm-syncobj-v1
// client code and syncobj's C API, with just enough xdg-shell to put surfaces on screen.
#pragma once

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>
#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/toplevel.hpp>
#include <syncway/unique_fd.hpp>

#include <wayland-client.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncway::test {

struct ProtocolError {
    std::string interface;  // of the object the error was posted on
    uint32_t code = 0;
};

// The client's timelines: on the compositor's syncobj service ($SYNCWAY_SYNCOBJ_SOCKET), or,
// with $SYNCOBJ_TEST_BACKEND=drm (the VM tier's 6.12 kernel), kernel syncobjs made on a DRM
// render node (DRM_IOCTL_SYNCOBJ_CREATE + HANDLE_TO_FD, signaled with TIMELINE_SIGNAL).
class SyncobjDevice {
public:
    explicit SyncobjDevice(const std::string& service_socket);
    struct Kernel {};
    explicit SyncobjDevice(Kernel);
    // True when $SYNCOBJ_TEST_BACKEND asks for kernel timelines.
    static bool kernel_requested();
    ~SyncobjDevice();
    SyncobjDevice(const SyncobjDevice&) = delete;
    syncobj_device* get() const { return dev_; }

    UniqueFd create_timeline() const;
    void signal(int timeline, uint64_t point) const;
    // Wait-before-signal: returns the signaler; closing every copy unsignaled fails the point.
    UniqueFd submit(int timeline, uint64_t point) const;
    void signal_with(int signaler) const;
    enum syncobj_point_state state(int timeline, uint64_t point, int* error = nullptr) const;
    // True once the point is signaled (false on timeout).
    bool wait_signaled(int timeline, uint64_t point, std::chrono::milliseconds timeout) const;

private:
    syncobj_device* dev_ = nullptr;
};

struct Color {
    uint8_t r, g, b;
    uint32_t xrgb() const { return 0xff000000u | uint32_t(r) << 16 | uint32_t(g) << 8 | b; }
};

// One wl_buffer of a solid colour (XRGB8888): wl_shm in its own memfd pool, or linux-dmabuf
// (linear, one plane) allocated by heaps/ (a heap or udmabuf dma-buf where the kernel has them,
// else a sealed memfd).
class Buffer {
public:
    Buffer(wl_shm* shm, int width, int height, Color color);
    Buffer(zwp_linux_dmabuf_v1* dmabuf, int width, int height, Color color);
    ~Buffer();
    Buffer(const Buffer&) = delete;
    wl_buffer* get() const { return buffer_; }
    int width() const { return width_; }
    int height() const { return height_; }

private:
    wl_buffer* buffer_ = nullptr;
    int width_, height_;
};

class Client {
public:
    // Connects to $XDG_RUNTIME_DIR-less path runtime_dir/socket and binds the globals.
    Client(const std::string& runtime_dir, const std::string& socket);
    ~Client();
    Client(const Client&) = delete;

    // False once the connection died (see error()).
    bool roundtrip();
    bool alive() const { return wl_display_get_error(display_) == 0; }
    // The protocol error that ended the connection, if that is what ended it.
    std::optional<ProtocolError> error() const;

    wl_display* display() const { return display_; }
    wl_compositor* compositor() const { return core_->compositor; }
    wl_subcompositor* subcompositor() const { return core_->subcompositor; }
    wl_shm* shm() const { return core_->shm; }
    xdg_wm_base* wm_base() const { return core_->wm_base; }
    // Null when the compositor does not advertise explicit sync.
    wp_linux_drm_syncobj_manager_v1* syncobj() const { return syncobj_; }
    zwp_linux_dmabuf_v1* dmabuf() const { return dmabuf_; }
    // Every global the compositor advertised at connection (interface names).
    const std::vector<std::string>& globals() const { return globals_; }
    // The wl_pointer of the seat, and the serial of its last enter (0: none yet).
    wl_pointer* pointer() const { return pointer_; }
    uint32_t enter_serial() const { return enter_serial_; }

    // The proxy is the client's: freed with it.
    wp_linux_drm_syncobj_timeline_v1* import(int timeline_fd);
    // Frees a proxy the test creates and never destroys itself along with the connection.
    template <typename Proxy> Proxy* own(Proxy* proxy)
    {
        owned_.push_back(reinterpret_cast<wl_proxy*>(proxy));
        return proxy;
    }

private:
    static void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version);
    void release();  // proxies, then the connection
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    // Freed before the connection closes (a proxy cannot outlive its display).
    std::unique_ptr<testing::CoreGlobals> core_ = std::make_unique<testing::CoreGlobals>();
    wp_linux_drm_syncobj_manager_v1* syncobj_ = nullptr;
    zwp_linux_dmabuf_v1* dmabuf_ = nullptr;
    wl_seat* seat_ = nullptr;
    wl_pointer* pointer_ = nullptr;
    uint32_t enter_serial_ = 0;
    std::vector<wl_proxy*> owned_;  // globals, registry, imported timelines, ...
    std::vector<std::string> globals_;
};

// A wl_surface, as an xdg_toplevel (configured, ready for buffers) or as a subsurface.
class Surface {
public:
    // A toplevel: waits for the first configure and acks it.
    explicit Surface(Client& client);
    // A wl_surface without a role yet (e.g. for a cursor image).
    struct NoRole {};
    Surface(Client& client, NoRole);
    // A subsurface of parent at (x, y); synchronized unless desync.
    Surface(Client& client, Surface& parent, int x, int y, bool desync);
    ~Surface();
    Surface(const Surface&) = delete;

    wl_surface* get() const { return toplevel_ ? toplevel_->surface() : surface_; }
    wp_linux_drm_syncobj_surface_v1* sync();  // created on first use
    void destroy_sync();
    void destroy_surface();  // the wl_surface alone (the sync object stays)

    void attach(const Buffer& buffer);
    void set_points(wp_linux_drm_syncobj_timeline_v1* acquire, uint64_t acquire_point,
                    wp_linux_drm_syncobj_timeline_v1* release, uint64_t release_point);
    void commit() { wl_surface_commit(get()); }
    // xdg_surface.set_window_geometry (a toplevel only): applies with the next commit.
    void set_window_geometry(int x, int y, int width, int height);

private:
    Client& client_;
    std::unique_ptr<testing::Toplevel> toplevel_;  // a toplevel's surface and role
    wl_surface* surface_ = nullptr;                // any other surface
    wl_subsurface* subsurface_ = nullptr;
    wp_linux_drm_syncobj_surface_v1* sync_ = nullptr;
};

} // namespace syncway::test
