// What a commit that nothing holds costs syncway's CPU, beside a baseline syncway measured in the
// same run: the commit gate runs for every wl_surface.commit, and checks there whether wlroots
// will cache the commit (to charge it against --limit-held-commits). Nothing may be allocated or
// looked up for a commit that applies at once; this shows whether that path got slower.
//
//   bench-compositor-commit-cost --baseline PATH [--syncway PATH] [--commits N] [--rounds R]
//
// Starts both compositors (headless, pixman), connects one client to each with a mapped
// 64x64 wl_shm toplevel, then, alternating between them R times, sends N bare commits (no
// attach, no damage: applied at once, nothing to render) in batches of 500 answered by a round
// trip, and reads each compositor's CPU time (user + system, all threads) around them. Prints
// the median nanoseconds per commit of each and their ratio.
#include "xdg-shell-client-protocol.h"

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/dispatch.hpp>
#include <syncway/testing/process_cpu.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-client.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace st = syncway::testing;

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "bench-compositor-commit-cost: %s\n", what.c_str());
    std::exit(1);
}

// One headless syncway in a private runtime directory; stopped (SIGTERM) when this goes.
struct Syncway {
    pid_t pid = -1;
    std::string dir, socket = "bench-commit-cost";

    explicit Syncway(const std::string& binary)
    {
        char tmpl[] = "/tmp/syncway-bench-commit-XXXXXX";
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
            if (access((dir + "/" + socket).c_str(), F_OK) == 0)
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
    Syncway(const Syncway&) = delete;
    Syncway& operator=(const Syncway&) = delete;
    double cpu_seconds() const
    {
        auto s = st::process_cpu_seconds(pid);
        if (!s)
            die("cannot read the compositor's CPU time");
        return *s;
    }
};

// A client of one compositor with a mapped toplevel.
struct Client {
    wl_display* display = nullptr;
    std::unique_ptr<st::CoreGlobals> core = std::make_unique<st::CoreGlobals>();
    std::unique_ptr<st::Toplevel> toplevel;
    std::optional<st::ShmBuffers> buffers;

    explicit Client(const Syncway& s)
    {
        display = wl_display_connect((s.dir + "/" + s.socket).c_str());
        if (!display)
            die("cannot connect to syncway");
        static const wl_registry_listener listener = {
            .global = [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
                static_cast<Client*>(data)->core->bind(registry, name, interface);
            },
            .global_remove = [](void*, wl_registry*, uint32_t) {}};
        wl_registry_add_listener(wl_display_get_registry(display), &listener, this);
        roundtrip();
        if (!core->complete())
            die("syncway lacks wl_compositor, wl_shm or xdg_wm_base");
        toplevel = std::make_unique<st::Toplevel>(core->compositor, core->wm_base, "commit cost");
        if (st::dispatch_until(display, [&] { return toplevel->configured(); }, std::chrono::seconds(10)) !=
            st::DispatchResult::done)
            die("no configure");
        auto made = st::ShmBuffers::create(core->shm, 64, 64, 1, 0xff204080);
        if (!made)
            die("wl_shm buffer: " + made.error().message);
        buffers.emplace(std::move(made.value()));
        wl_surface_attach(toplevel->surface(), buffers->get(0), 0, 0);
        wl_surface_damage_buffer(toplevel->surface(), 0, 0, 64, 64);
        wl_surface_commit(toplevel->surface());
        roundtrip();
    }
    ~Client()
    {
        toplevel.reset();
        buffers.reset();
        core.reset();
        wl_display_disconnect(display);
    }
    void roundtrip()
    {
        if (wl_display_roundtrip(display) < 0)
            die("the connection failed");
    }
    // `n` bare commits; the compositor's CPU nanoseconds per commit.
    double commits(const Syncway& s, int n)
    {
        roundtrip();
        double before = s.cpu_seconds();
        for (int i = 0; i < n; ++i) {
            wl_surface_commit(toplevel->surface());
            if (i % 500 == 499)
                roundtrip();
        }
        roundtrip();
        return (s.cpu_seconds() - before) * 1e9 / n;
    }
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    std::string binary = SYNCWAY_BIN, baseline;
    int n = 200000, rounds = 9;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--syncway" && i + 1 < argc)
            binary = argv[++i];
        else if (arg == "--baseline" && i + 1 < argc)
            baseline = argv[++i];
        else if (arg == "--commits" && i + 1 < argc)
            n = std::atoi(argv[++i]);
        else if (arg == "--rounds" && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else
            die("usage: bench-compositor-commit-cost --baseline PATH [--syncway PATH] [--commits N] [--rounds R]");
    }
    if (baseline.empty())
        die("--baseline PATH: the syncway to compare with (e.g. one built from main)");
    if (n <= 0 || rounds <= 0)
        die("--commits and --rounds must be positive");
    signal(SIGPIPE, SIG_IGN);
    Syncway ours(binary), base(baseline);
    Client ours_client(ours), base_client(base);
    ours_client.commits(ours, n / 10);  // warm-up
    base_client.commits(base, n / 10);
    std::vector<double> ours_ns, base_ns;
    for (int r = 0; r < rounds; ++r) {
        // Alternate which goes first, so that drift in the machine's load favours neither.
        if (r % 2 == 0) {
            ours_ns.push_back(ours_client.commits(ours, n));
            base_ns.push_back(base_client.commits(base, n));
        } else {
            base_ns.push_back(base_client.commits(base, n));
            ours_ns.push_back(ours_client.commits(ours, n));
        }
    }
    double o = median(ours_ns), b = median(base_ns);
    std::printf("bare commits (nothing held), %d rounds of %d, compositor CPU per commit (median):\n", rounds, n);
    std::printf("  syncway   %8.1f ns  (%s)\n", o, binary.c_str());
    std::printf("  baseline  %8.1f ns  (%s)\n", b, baseline.c_str());
    std::printf("  ratio     %8.3f\n", o / b);
    return 0;
}
