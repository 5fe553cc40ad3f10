// The layer's view of an application's Wayland connection: the application's wl_display with
// an event queue of the layer's own (so the layer never dispatches the application's events,
// nor the application ours), the globals the layer needs, and the timeline backend.
//
// One per wl_display, shared by every surface on it; it lives as long as a surface uses it
// (the application must keep the display connected while a VkSurfaceKHR on it exists).
#pragma once

#include <syncobj/syncobj.h>

#include <wayland-client.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

struct wp_linux_drm_syncobj_manager_v1;
struct zwp_linux_dmabuf_v1;

namespace syncway::wsi {

class WaylandConnection {
public:
    // Binds the globals and opens a timeline backend. Null, with the reason in *why_not, when
    // the compositor does not advertise wp_linux_drm_syncobj_manager_v1 or wl_shm, or no
    // timeline backend opens: then the layer leaves the surface to the driver.
    static std::shared_ptr<WaylandConnection> open(wl_display* display, std::string* why_not);
    ~WaylandConnection();
    WaylandConnection(const WaylandConnection&) = delete;
    WaylandConnection& operator=(const WaylandConnection&) = delete;

    wl_display* display() const { return display_; }
    wl_event_queue* queue() const { return queue_; }
    wl_shm* shm() const { return shm_; }
    wp_linux_drm_syncobj_manager_v1* syncobj_manager() const { return syncobj_manager_; }
    syncobj_device* timelines() const { return timelines_; }
    bool has_shm_format(uint32_t format) const;
    // zwp_linux_dmabuf_v1 (bound at version 3, whose modifier events list what the compositor
    // imports), or null when it is not advertised at version 3 or above.
    zwp_linux_dmabuf_v1* dmabuf() const { return dmabuf_; }
    // The compositor imports LINEAR dma-bufs of this DRM fourcc format.
    bool has_dmabuf_linear_format(uint32_t drm_format) const;
    // The shortest refresh interval among the outputs' current modes (ns); 60 Hz when no
    // output says.
    int64_t refresh_ns() const;

    enum class Wait { Done, TimedOut, Lost };
    // Dispatches the layer's queue until done() holds, the CLOCK_MONOTONIC deadline (ns)
    // passes, or the connection fails. Cooperates with other threads reading the display
    // (the application's included) through wl_display_prepare_read_queue.
    Wait dispatch_until(const std::function<bool()>& done, int64_t deadline_ns);
    // Sends buffered requests; false once the connection has failed.
    bool flush();
    // The compositor is gone or killed the connection with a protocol error.
    bool lost() const { return wl_display_get_error(display_) != 0; }

    // Held while the layer's queue is dispatched: an object whose event handler may run must
    // destroy its proxies under this lock (handlers run with it held, so they must not take it).
    std::mutex& dispatch_mutex() { return dispatch_mutex_; }

    // A wl_surface can carry one wp_linux_drm_syncobj_surface_v1; these keep two VkSurfaceKHRs
    // of the same wl_surface from both making one.
    bool claim_surface(wl_surface* surface);
    void release_surface(wl_surface* surface);

private:
    explicit WaylandConnection(wl_display* display);
    static void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version);
    static void global_remove(void* data, wl_registry* registry, uint32_t name);
    static void shm_format(void* data, wl_shm* shm, uint32_t format);
    static void dmabuf_modifier(void* data, zwp_linux_dmabuf_v1* dmabuf, uint32_t format, uint32_t modifier_hi,
                                uint32_t modifier_lo);
    static void output_mode(void* data, wl_output* output, uint32_t flags, int32_t width, int32_t height, int32_t refresh);

    wl_display* display_;
    wl_event_queue* queue_ = nullptr;
    wl_display* display_wrapper_ = nullptr;
    wl_registry* registry_ = nullptr;
    wl_shm* shm_ = nullptr;
    wp_linux_drm_syncobj_manager_v1* syncobj_manager_ = nullptr;
    syncobj_device* timelines_ = nullptr;
    zwp_linux_dmabuf_v1* dmabuf_ = nullptr;
    std::vector<uint32_t> shm_formats_; // written only while open() runs its roundtrips
    std::vector<uint32_t> dmabuf_linear_formats_; // likewise
    std::vector<wl_output*> outputs_;
    std::atomic<int32_t> max_refresh_mhz_{0};
    std::mutex dispatch_mutex_;
    std::mutex surfaces_mutex_;
    std::set<wl_surface*> claimed_surfaces_;
};

int64_t monotonic_ns();

} // namespace syncway::wsi
