// R1, compositor side: what a client at each per-client limit costs syncway (fds, memory), and
// how syncway's fds and memory move over connect/commit/SIGKILL cycles, each beside a baseline
// measured in the same run.
//
//   bench-compositor-limits [--cycles N] [--syncway PATH]
//
// Starts `syncway --backend headless` (default limits) and measures its open fds
// (/proc/PID/fd) and resident memory (VmRSS, and the heap's share from smaps_rollup's
// Anonymous) around:
//   baseline   one client connected, globals bound, nothing else;
//   at limit   one client holding --limit-timelines imported timelines (one timeline fd
//              imported again and again, so the service's own timeline is not counted),
//              --limit-held-commits commits held on one surface, --limit-waits surfaces each
//              with a held commit (one wait each), --limit-dmabuf-fds fds in linux-dmabuf
//              params; printed as the total and per item, less the baseline client;
//   churn      N cycles of a churn client (tests/support/churn_client.hpp: toplevel, imported
//              timeline, held commit with its wait, a shown wl_shm buffer, an fd in dmabuf
//              params) SIGKILLed once ready, beside N cycles of a bare client (connect, bind,
//              SIGKILL); growth of fds and RSS per 1,000 cycles, after a warm-up.
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>
#include <syncway/testing/churn_client.hpp>
#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/dispatch.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-client.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace st = syncway::testing;

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "bench-compositor-limits: %s\n", what.c_str());
    std::exit(1);
}

// Default limits (compositor/options.hpp).
constexpr int kTimelines = 256, kHeldCommits = 1024, kWaits = 128, kDmabufFds = 256;

struct Syncway {
    pid_t pid = -1;
    std::string dir, socket = "bench-limits";

    explicit Syncway(const std::string& binary)
    {
        char tmpl[] = "/tmp/syncway-bench-limits-XXXXXX";
        if (!mkdtemp(tmpl))
            die("mkdtemp");
        dir = tmpl;
        pid = fork();
        if (pid == 0) {
            setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
            unsetenv("WAYLAND_DISPLAY");
            unsetenv("DISPLAY");
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(binary.c_str(), binary.c_str(), "--backend", "headless", "--output", "640x480", "--socket",
                  socket.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        for (int i = 0; i < 400; ++i) {
            if (access(service_socket().c_str(), F_OK) == 0 && access((dir + "/" + socket).c_str(), F_OK) == 0)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        die("syncway did not start (" + binary + ")");
    }
    ~Syncway()
    {
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        std::system(("rm -rf '" + dir + "'").c_str());
    }
    std::string service_socket() const { return dir + "/syncway-syncobj-" + std::to_string(pid) + ".sock"; }
    std::string display_path() const { return dir + "/" + socket; }

    int fds() const
    {
        int n = 0;
        DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
        while (dirent* e = d ? readdir(d) : nullptr)
            n += e->d_name[0] != '.';
        if (d)
            closedir(d);
        return n;
    }
    long kb(const char* file, const char* key) const
    {
        std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
        std::string word;
        long value = -1;
        while (in >> word)
            if (word == key && in >> value)
                return value;
        return -1;
    }
    long rss_kb() const { return kb("status", "VmRSS:"); }
    long anon_kb() const { return kb("smaps_rollup", "Anonymous:"); }
};

struct Sample {
    int fds;
    long rss_kb, anon_kb;
};

Sample sample(const Syncway& s)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the loop settle
    return {s.fds(), s.rss_kb(), s.anon_kb()};
}

// A connected client with the globals a limit needs.
struct Client {
    wl_display* display = nullptr;
    std::unique_ptr<st::CoreGlobals> globals = std::make_unique<st::CoreGlobals>();
    st::CoreGlobals& core = *globals;
    wp_linux_drm_syncobj_manager_v1* syncobj = nullptr;
    zwp_linux_dmabuf_v1* dmabuf = nullptr;
    syncobj_device* dev = nullptr;

    explicit Client(const Syncway& s)
    {
        setenv("SYNCWAY_SYNCOBJ_SOCKET", s.service_socket().c_str(), 1);
        if (syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) != 0)
            die("syncobj_open: " + std::string(syncobj_last_error()));
        display = wl_display_connect(s.display_path().c_str());
        if (!display)
            die("cannot connect to syncway");
        static const wl_registry_listener listener = {
            .global = [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
                auto* c = static_cast<Client*>(data);
                if (c->core.bind(registry, name, interface))
                    return;
                if (std::string_view(interface) == wp_linux_drm_syncobj_manager_v1_interface.name)
                    c->syncobj = static_cast<wp_linux_drm_syncobj_manager_v1*>(
                        wl_registry_bind(registry, name, &wp_linux_drm_syncobj_manager_v1_interface, 1));
                if (std::string_view(interface) == zwp_linux_dmabuf_v1_interface.name)
                    c->dmabuf = static_cast<zwp_linux_dmabuf_v1*>(
                        wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3));
            },
            .global_remove = [](void*, wl_registry*, uint32_t) {}};
        wl_registry_add_listener(wl_display_get_registry(display), &listener, this);
        roundtrip();
        if (!core.complete() || !syncobj || !dmabuf)
            die("syncway lacks a global this benchmark needs");
    }
    ~Client()
    {
        globals.reset();  // its proxies before their display
        wl_display_disconnect(display);  // other client-side proxies are this process's (it exits soon)
        syncobj_close(dev);
    }
    void roundtrip()
    {
        if (wl_display_roundtrip(display) < 0)
            die("the connection failed (a limit refused the benchmark's client?)");
    }
    int timeline()
    {
        int fd = -1;
        if (syncobj_create(dev, 0, &fd) != 0)
            die("syncobj_create");
        return fd;
    }
};

// `commits` held commits on the toplevel of `sync`: their acquire points are never signaled.
void hold_commits(Client& c, st::Toplevel& toplevel, wp_linux_drm_syncobj_surface_v1* sync,
                  wp_linux_drm_syncobj_timeline_v1* timeline, wl_buffer* buffer, int commits)
{
    for (int i = 0; i < commits; ++i) {
        uint64_t point = 1 + 2 * uint64_t(i);
        wl_surface_attach(toplevel.surface(), buffer, 0, 0);
        wp_linux_drm_syncobj_surface_v1_set_acquire_point(sync, timeline, uint32_t(point >> 32), uint32_t(point));
        wp_linux_drm_syncobj_surface_v1_set_release_point(sync, timeline, uint32_t((point + 1) >> 32),
                                                          uint32_t(point + 1));
        wl_surface_commit(toplevel.surface());
        if (i % 128 == 127)
            c.roundtrip();
    }
}

wp_linux_drm_syncobj_surface_v1* sync_of(Client& c, st::Toplevel& toplevel)
{
    return wp_linux_drm_syncobj_manager_v1_get_surface(c.syncobj, toplevel.surface());
}

void configure(Client& c, st::Toplevel& toplevel)
{
    if (st::dispatch_until(c.display, [&] { return toplevel.configured(); }, std::chrono::seconds(10)) !=
        st::DispatchResult::done)
        die("no configure");
}

void print_cost(const char* what, int items, const Sample& base, const Sample& at)
{
    int fds = at.fds - base.fds;
    long rss = at.rss_kb - base.rss_kb, anon = at.anon_kb - base.anon_kb;
    std::printf("%-34s %6d  %6d fds (%.2f each)  RSS %+6ld kB, anon %+6ld kB (%.0f B each)\n", what, items, fds,
                double(fds) / items, rss, anon, anon * 1024.0 / items);
}

Sample churn(const Syncway& s, int cycles, bool bare, Sample* before)
{
    st::ChurnTarget target{s.dir, s.socket, s.service_socket(), bare};
    for (int i = 0; i < 50; ++i)  // warm-up: allocator pools, wlroots' swapchain, ...
        if (!st::churn_cycle(target, 10000))
            die("a churn client failed in the warm-up");
    *before = sample(s);
    for (int i = 0; i < cycles; ++i)
        if (!st::churn_cycle(target, 10000))
            die("churn client " + std::to_string(i) + " failed");
    return sample(s);
}

} // namespace

int main(int argc, char** argv)
{
    int cycles = 1000;
    std::string binary = SYNCWAY_BIN;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--cycles" && i + 1 < argc)
            cycles = std::atoi(argv[++i]);
        else if (arg == "--syncway" && i + 1 < argc)
            binary = argv[++i];
        else
            die("usage: bench-compositor-limits [--cycles N] [--syncway PATH]");
    }
    signal(SIGPIPE, SIG_IGN);
    Syncway syncway(binary);
    std::printf("syncway pid %d, default limits: --limit-timelines %d --limit-held-commits %d --limit-waits %d "
                "--limit-dmabuf-fds %d\n\n", syncway.pid, kTimelines, kHeldCommits, kWaits, kDmabufFds);
    std::printf("%-34s %6s  what one client at the limit costs syncway (less what it had before)\n", "limit", "items");

    {
        Client c(syncway);
        Sample base = sample(syncway);
        int fd = c.timeline();
        for (int i = 0; i < kTimelines; ++i)
            wp_linux_drm_syncobj_manager_v1_import_timeline(c.syncobj, fd);
        c.roundtrip();
        Sample at = sample(syncway);
        print_cost("--limit-timelines (imports)", kTimelines, base, at);
        close(fd);
    }
    {
        Client c(syncway);
        auto buffers = st::ShmBuffers::create(c.core.shm, 16, 16, 1, 0xff204080);
        st::Toplevel toplevel(c.core.compositor, c.core.wm_base, "held");
        configure(c, toplevel);
        int fd = c.timeline();
        auto* timeline = wp_linux_drm_syncobj_manager_v1_import_timeline(c.syncobj, fd);
        auto* sync = sync_of(c, toplevel);
        hold_commits(c, toplevel, sync, timeline, buffers->get(0), 1);
        c.roundtrip();
        Sample one = sample(syncway);  // a surface with one held commit (and its wait)
        hold_commits(c, toplevel, sync, timeline, buffers->get(0), kHeldCommits - 1);
        c.roundtrip();
        Sample at = sample(syncway);
        print_cost("--limit-held-commits (one surface)", kHeldCommits - 1, one, at);
        close(fd);
    }
    {
        Client c(syncway);
        auto buffers = st::ShmBuffers::create(c.core.shm, 16, 16, 1, 0xff204080);
        int fd = c.timeline();
        auto* timeline = wp_linux_drm_syncobj_manager_v1_import_timeline(c.syncobj, fd);
        std::vector<std::unique_ptr<st::Toplevel>> surfaces;
        for (int i = 0; i < kWaits; ++i) {
            surfaces.push_back(std::make_unique<st::Toplevel>(c.core.compositor, c.core.wm_base, "wait"));
            configure(c, *surfaces.back());
        }
        std::vector<wp_linux_drm_syncobj_surface_v1*> syncs;
        for (auto& surface : surfaces)
            syncs.push_back(sync_of(c, *surface));
        c.roundtrip();
        Sample base = sample(syncway);  // the surfaces and their sync objects, nothing held yet
        for (size_t i = 0; i < surfaces.size(); ++i)
            hold_commits(c, *surfaces[i], syncs[i], timeline, buffers->get(0), 1);
        c.roundtrip();
        Sample at = sample(syncway);
        print_cost("--limit-waits (+ 1 held commit each)", kWaits, base, at);
        close(fd);
    }
    {
        Client c(syncway);
        Sample base = sample(syncway);
        for (int p = 0; p < kDmabufFds / 4; ++p) {
            auto* params = zwp_linux_dmabuf_v1_create_params(c.dmabuf);
            for (uint32_t plane = 0; plane < 4; ++plane) {
                int fd = memfd_create("bench-dmabuf", MFD_CLOEXEC);
                zwp_linux_buffer_params_v1_add(params, fd, plane, 0, 64, 0, 0);
                close(fd);
            }
            if (p % 16 == 15)
                c.roundtrip();
        }
        c.roundtrip();
        Sample at = sample(syncway);
        print_cost("--limit-dmabuf-fds (in params)", kDmabufFds, base, at);
    }

    std::printf("\nchurn: %d cycles each, after 50 warm-up cycles; growth per 1,000 cycles\n", cycles);
    Sample before{};
    Sample after = churn(syncway, cycles, true, &before);
    auto per_k = [&](long delta) { return delta * 1000.0 / cycles; };
    std::printf("  bare client (connect, bind)     fds %d -> %d (%+.1f), RSS %ld -> %ld kB (%+.1f kB), anon %+.1f kB\n",
                before.fds, after.fds, per_k(after.fds - before.fds), before.rss_kb, after.rss_kb,
                per_k(after.rss_kb - before.rss_kb), per_k(after.anon_kb - before.anon_kb));
    after = churn(syncway, cycles, false, &before);
    std::printf("  churn client (everything held)  fds %d -> %d (%+.1f), RSS %ld -> %ld kB (%+.1f kB), anon %+.1f kB\n",
                before.fds, after.fds, per_k(after.fds - before.fds), before.rss_kb, after.rss_kb,
                per_k(after.rss_kb - before.rss_kb), per_k(after.anon_kb - before.anon_kb));
    return 0;
}
