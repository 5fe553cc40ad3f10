#include "syncway/testing/churn_client.hpp"

#include "syncway/testing/core_globals.hpp"
#include "syncway/testing/shm_buffers.hpp"
#include "syncway/testing/toplevel.hpp"

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"

#include <syncobj/syncobj.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace syncway::testing {
namespace {

struct Globals {
    CoreGlobals core;
    wp_linux_drm_syncobj_manager_v1* syncobj = nullptr;
    zwp_linux_dmabuf_v1* dmabuf = nullptr;
};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version)
{
    auto* globals = static_cast<Globals*>(data);
    if (globals->core.bind(registry, name, interface))
        return;
    std::string_view iface(interface);
    if (iface == wp_linux_drm_syncobj_manager_v1_interface.name)
        globals->syncobj = static_cast<wp_linux_drm_syncobj_manager_v1*>(
            wl_registry_bind(registry, name, &wp_linux_drm_syncobj_manager_v1_interface, 1));
    else if (iface == zwp_linux_dmabuf_v1_interface.name && version >= 3)
        globals->dmabuf = static_cast<zwp_linux_dmabuf_v1*>(wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3));
}

[[noreturn]] void fail() { _exit(1); }

} // namespace

void churn_client_main(const ChurnTarget& target, int ready_fd)
{
    setenv("SYNCWAY_SYNCOBJ_SOCKET", target.service_socket.c_str(), 1);
    std::string path = target.runtime_dir + "/" + target.socket;
    wl_display* display = wl_display_connect(path.c_str());
    if (!display)
        fail();
    Globals globals;
    static const wl_registry_listener listener = {.global = on_global,
                                                  .global_remove = [](void*, wl_registry*, uint32_t) {}};
    wl_registry_add_listener(wl_display_get_registry(display), &listener, &globals);
    if (wl_display_roundtrip(display) < 0 || !globals.core.complete() || !globals.syncobj)
        fail();
    char byte = 1;
    if (target.bare) {
        if (write(ready_fd, &byte, 1) != 1)
            fail();
        for (;;)
            pause();
    }

    Toplevel toplevel(globals.core.compositor, globals.core.wm_base, "churn");
    while (!toplevel.configured())
        if (wl_display_dispatch(display) < 0)
            fail();

    syncobj_device* dev = nullptr;
    int timeline = -1;
    if (syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) != 0 || syncobj_create(dev, 0, &timeline) != 0)
        fail();
    auto* imported = wp_linux_drm_syncobj_manager_v1_import_timeline(globals.syncobj, timeline);
    auto* sync = wp_linux_drm_syncobj_manager_v1_get_surface(globals.syncobj, toplevel.surface());

    auto held = ShmBuffers::create(globals.core.shm, 64, 64, 2, 0xff806040);
    if (!held)
        fail();
    // Held: its acquire point (1) is never signaled.
    wl_surface_attach(toplevel.surface(), held->get(0), 0, 0);
    wp_linux_drm_syncobj_surface_v1_set_acquire_point(sync, imported, 0, 1);
    wp_linux_drm_syncobj_surface_v1_set_release_point(sync, imported, 0, 2);
    wl_surface_commit(toplevel.surface());

    // A second window, shown at once (its buffer locked by the renderer).
    Toplevel shown(globals.core.compositor, globals.core.wm_base, "churn-shown");
    while (!shown.configured())
        if (wl_display_dispatch(display) < 0)
            fail();
    wl_surface_attach(shown.surface(), held->get(1), 0, 0);
    wl_surface_damage_buffer(shown.surface(), 0, 0, 64, 64);
    wl_surface_commit(shown.surface());

    if (globals.dmabuf) {
        int fd = memfd_create("churn-dmabuf", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, 4096) != 0)
            fail();
        auto* params = zwp_linux_dmabuf_v1_create_params(globals.dmabuf);
        zwp_linux_buffer_params_v1_add(params, fd, 0, 0, 64, 0, 0);
        close(fd);
    }
    if (wl_display_roundtrip(display) < 0)
        fail();
    if (write(ready_fd, &byte, 1) != 1)
        fail();
    for (;;)
        pause();
}

bool churn_cycle(const ChurnTarget& target, int timeout_ms)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(ready[0]);
        close(ready[1]);
        return false;
    }
    if (pid == 0) {
        close(ready[0]);
        churn_client_main(target, ready[1]);
    }
    close(ready[1]);
    pollfd p{ready[0], POLLIN, 0};
    char byte = 0;
    bool ok = poll(&p, 1, timeout_ms) == 1 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    return ok;
}

} // namespace syncway::testing
