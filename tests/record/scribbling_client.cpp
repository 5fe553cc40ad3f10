// A linux-drm-syncobj-v1 client for the recorder's tests. It commits a red buffer with an
// acquire point, signals the point, waits, commits a green buffer (which makes the red one's
// release point due) and exits. With --scribble it is broken the way the recorder must catch:
// after the red buffer's acquire point signaled, and before its release point, it paints the
// buffer blue, while the compositor may still read it.
#include "linux-drm-syncobj-v1-client-protocol.h"

#include <syncobj/syncobj.h>
#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <unistd.h>
#include <wayland-client.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace {

using namespace syncway::testing;

struct Globals {
    CoreGlobals core;
    wp_linux_drm_syncobj_manager_v1* syncobj = nullptr;
};

void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t)
{
    auto* g = static_cast<Globals*>(data);
    if (g->core.bind(registry, name, interface))
        return;
    if (std::string_view(interface) == wp_linux_drm_syncobj_manager_v1_interface.name)
        g->syncobj = static_cast<wp_linux_drm_syncobj_manager_v1*>(
            wl_registry_bind(registry, name, &wp_linux_drm_syncobj_manager_v1_interface, 1));
}
void global_remove(void*, wl_registry*, uint32_t) {}
const wl_registry_listener registry_listener = {global, global_remove};

[[noreturn]] void die(const char* what)
{
    std::fprintf(stderr, "scribbling-client: %s\n", what);
    std::exit(1);
}

void check(int r, const char* what)
{
    if (r < 0) {
        std::fprintf(stderr, "scribbling-client: %s: %s (%s)\n", what, std::strerror(-r), syncobj_last_error());
        std::exit(1);
    }
}

} // namespace

int main(int argc, char** argv)
{
    bool scribble = argc > 1 && std::string_view(argv[1]) == "--scribble";
    // Declared first, so the connection outlives every proxy destroyed below.
    std::unique_ptr<wl_display, decltype(&wl_display_disconnect)> connection(wl_display_connect(nullptr),
                                                                            wl_display_disconnect);
    wl_display* display = connection.get();
    if (!display)
        die("cannot connect to the compositor");
    Globals g;
    wl_registry* registry = wl_display_get_registry(display);
    wl_registry_add_listener(registry, &registry_listener, &g);
    wl_display_roundtrip(display);
    if (!g.core.complete() || !g.syncobj)
        die("the compositor lacks wl_compositor, wl_shm, xdg_wm_base or linux-drm-syncobj-v1");
    {  // the window and buffers go before the connection
    Toplevel window(g.core.compositor, g.core.wm_base, "scribbling-client");
    while (!window.configured())
        if (wl_display_dispatch(display) < 0)
            die("lost the compositor");
    int32_t w = window.width() > 0 ? window.width() : 200, h = window.height() > 0 ? window.height() : 200;
    auto buffers = ShmBuffers::create(g.core.shm, w, h, 2, 0xffff0000u);  // red
    if (!buffers)
        die("cannot create shm buffers");
    buffers.value().fill(1, 0xff00ff00u);  // green

    syncobj_device* dev = nullptr;
    int acquire_fd = -1, release_fd = -1;
    check(syncobj_open(SYNCOBJ_BACKEND_AUTO, &dev), "syncobj_open");
    check(syncobj_create(dev, 0, &acquire_fd), "syncobj_create");
    check(syncobj_create(dev, 0, &release_fd), "syncobj_create");
    auto* acquire = wp_linux_drm_syncobj_manager_v1_import_timeline(g.syncobj, acquire_fd);
    auto* release = wp_linux_drm_syncobj_manager_v1_import_timeline(g.syncobj, release_fd);
    auto* sync = wp_linux_drm_syncobj_manager_v1_get_surface(g.syncobj, window.surface());

    for (uint64_t point = 1; point <= 2; ++point) {
        int signaler = -1;
        check(syncobj_submit(dev, acquire_fd, point, &signaler), "syncobj_submit");
        wl_surface_attach(window.surface(), buffers.value().get(int(point - 1)), 0, 0);
        wl_surface_damage_buffer(window.surface(), 0, 0, w, h);
        wp_linux_drm_syncobj_surface_v1_set_acquire_point(sync, acquire, 0, uint32_t(point));
        wp_linux_drm_syncobj_surface_v1_set_release_point(sync, release, 0, uint32_t(point));
        wl_surface_commit(window.surface());
        wl_display_roundtrip(display);  // held by the compositor until the point signals
        check(syncobj_signaler_signal(dev, signaler), "syncobj_signaler_signal");
        check(syncobj_fd_close(dev, signaler), "syncobj_fd_close");
        usleep(200 * 1000);  // applied and presented meanwhile
        if (point == 1 && scribble) {
            buffers.value().fill(0, 0xff0000ffu);  // blue, into a buffer not yet released: the bug
            usleep(100 * 1000);
        }
    }
    wl_display_roundtrip(display);
    wp_linux_drm_syncobj_surface_v1_destroy(sync);
    wp_linux_drm_syncobj_timeline_v1_destroy(acquire);
    wp_linux_drm_syncobj_timeline_v1_destroy(release);
    wp_linux_drm_syncobj_manager_v1_destroy(g.syncobj);
    window.reset();
    wl_display_roundtrip(display);
    syncobj_fd_close(dev, acquire_fd);
    syncobj_fd_close(dev, release_fd);
    syncobj_close(dev);
    }
    wl_registry_destroy(registry);
    return 0;
}
