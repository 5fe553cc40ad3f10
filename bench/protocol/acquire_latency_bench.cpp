// B3 (docs/DESIGN.md §4): from an acquire point signaled to the commit applied, and to the frame
// presented (wp_presentation), beside the same client without explicit sync in the same run.
//
//   bench-protocol-acquire [--iterations N] [--syncway PATH]
//
// Starts `syncway --backend headless` with itself as the COMMAND (so WAYLAND_DISPLAY and
// SYNCWAY_SYNCOBJ_SOCKET come from syncway), then alternates two side-by-side desynchronized
// subsurfaces of one window, each swapping two wl_shm buffers every iteration:
//   explicit  the commit is made with an acquire point submitted but not signaled; once the
//             compositor holds it, t0 = the render thread's one-syscall signal. "Applied" is
//             when the client's eventfd sees the previous commit's release point signaled
//             (the compositor signals it right after the new state has replaced the old one).
//   implicit  t0 = the commit (the buffer is complete before it, as implicit-sync clients do).
//             "Applied" is when wl_buffer.release of the previous buffer arrives (queued at
//             the same moment in the compositor, sent when its loop flushes clients).
// "Presented" is the wp_presentation_feedback.presented timestamp (CLOCK_MONOTONIC) minus t0.
// A random pause before each commit spreads t0 over the output's 60 Hz frame cycle, so both
// clients see the same phase distribution.
// Client-side "applied" includes two process wake-ups (client -> compositor -> client). Their
// floor is printed beside it: eventfd round trips to an echo process, each after the same kind
// of random pause (an idle vCPU wakes far slower than a busy one), half of them before the
// frames and half after. The host's steal of vCPU time during the run is printed too.
// Inside the compositor (syncway --record DIR --record-trace-only, DIR/trace.jsonl): for each
// explicit commit, when its event loop handed it the signal ("seen"), when it unlocked the
// commit, when the state was applied and when the release points it made due were signaled.
// seen - t0 is the wake-up (socket + scheduler), applied - seen the compositor's own work: the
// figure the goal "commit applied within 50 us p99 of the signal" is read from. Beside it, the
// same machine's floor for that figure: a pure CPU job as long as its median, timed the same way
// after short idle pauses (CpuJob).
#include "linux-drm-syncobj-v1-client-protocol.h"

#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>

#include <filesystem>
#include <optional>
#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr const char* kChildEnv = "SYNCWAY_B3_CHILD";
// The recording directory of the syncway we started, for the child to read its trace.
constexpr const char* kTraceEnv = "SYNCWAY_B3_RECORD_DIR";
constexpr int kSize = 128;
constexpr double kGoalUs = 50;  // the goal: a commit applied within 50 us (p99) of its acquire point signaling

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "bench-protocol-acquire: %s\n", what.c_str());
    std::exit(1);
}

void check(int r, const char* what)
{
    if (r < 0)
        die(std::string(what) + ": " + std::strerror(-r) + " (" + syncobj_last_error() + ")");
}

struct Globals {
    syncway::testing::CoreGlobals core;
    wp_presentation* presentation = nullptr;
    wp_linux_drm_syncobj_manager_v1* syncobj = nullptr;
    clockid_t clock = CLOCK_MONOTONIC;
};

const wl_registry_listener registry_listener = {
    .global =
        [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
            auto* g = static_cast<Globals*>(data);
            std::string_view i(interface);
            if (g->core.bind(registry, name, i))
                return;
            if (i == wp_presentation_interface.name)
                g->presentation = static_cast<wp_presentation*>(
                    wl_registry_bind(registry, name, &wp_presentation_interface, 1));
            else if (i == wp_linux_drm_syncobj_manager_v1_interface.name)
                g->syncobj = static_cast<wp_linux_drm_syncobj_manager_v1*>(
                    wl_registry_bind(registry, name, &wp_linux_drm_syncobj_manager_v1_interface, 1));
        },
    .global_remove = [](void*, wl_registry*, uint32_t) {},
};

// The other end of the wake-up floor: a process that answers each eventfd write with one.
class EchoProcess {
public:
    EchoProcess() : ping_(eventfd(0, EFD_CLOEXEC)), pong_(eventfd(0, EFD_CLOEXEC))
    {
        if (ping_ < 0 || pong_ < 0)
            die(std::string("eventfd: ") + std::strerror(errno));
        pid_ = fork();
        if (pid_ < 0)
            die(std::string("fork: ") + std::strerror(errno));
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            uint64_t v = 0;
            while (read(ping_, &v, sizeof v) == sizeof v && v == 1)
                if (write(pong_, &v, sizeof v) != sizeof v)
                    _exit(1);
            _exit(0);
        }
    }
    ~EchoProcess()
    {
        uint64_t stop = 2;
        if (write(ping_, &stop, sizeof stop) != sizeof stop)
            kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        close(ping_);
        close(pong_);
    }
    EchoProcess(const EchoProcess&) = delete;
    EchoProcess& operator=(const EchoProcess&) = delete;

    // One round trip (us).
    double round_trip()
    {
        uint64_t v = 1;
        int64_t t0 = now_ns();
        if (write(ping_, &v, sizeof v) != sizeof v || read(pong_, &v, sizeof v) != sizeof v)
            die(std::string("eventfd ping-pong: ") + std::strerror(errno));
        return double(now_ns() - t0) / 1000;
    }

private:
    int ping_, pong_;
    pid_t pid_ = -1;
};

const wp_presentation_listener presentation_listener = {
    .clock_id = [](void* data, wp_presentation*, uint32_t clk) { static_cast<Globals*>(data)->clock = clockid_t(clk); },
};

wl_buffer* solid_buffer(wl_shm* shm, uint32_t xrgb)
{
    wl_buffer* buffer = syncway::testing::solid_shm_buffer(shm, kSize, kSize, xrgb);
    if (!buffer)
        die(std::string("a wl_shm buffer: ") + std::strerror(errno));
    return buffer;
}

// The outcome of one frame's wp_presentation_feedback.
struct Feedback {
    bool done = false;
    int64_t presented_ns = -1;  // -1: discarded
};

const wp_presentation_feedback_listener feedback_listener = {
    .sync_output = [](void*, struct wp_presentation_feedback*, wl_output*) {},
    .presented =
        [](void* data, struct wp_presentation_feedback* fb, uint32_t sec_hi, uint32_t sec_lo, uint32_t nsec, uint32_t,
           uint32_t, uint32_t, uint32_t) {
            auto* f = static_cast<Feedback*>(data);
            f->presented_ns = int64_t((uint64_t(sec_hi) << 32) | sec_lo) * 1000000000 + nsec;
            f->done = true;
            wp_presentation_feedback_destroy(fb);
        },
    .discarded =
        [](void* data, struct wp_presentation_feedback* fb) {
            static_cast<Feedback*>(data)->done = true;
            wp_presentation_feedback_destroy(fb);
        },
};

const wl_buffer_listener buffer_listener = {
    .release = [](void* data, wl_buffer*) { *static_cast<int64_t*>(data) = now_ns(); },
};

struct Samples {
    std::vector<double> applied_us, presented_us;
};

// CPU time of the whole machine from /proc/stat's first line (USER_HZ ticks): all of it, and what
// the hypervisor stole from the vCPUs (they were runnable but not run). Zeros if unreadable.
struct CpuTicks {
    uint64_t total = 0, steal = 0;
    static CpuTicks now()
    {
        std::ifstream in("/proc/stat");
        std::string cpu;
        CpuTicks t;
        uint64_t v = 0;
        in >> cpu;
        for (int field = 0; cpu == "cpu" && field < 10 && in >> v; ++field) {
            t.total += v;
            if (field == 7)
                t.steal = v;
        }
        return t;
    }
};

// The machine's own floor for the goal: a job of pure CPU work (no syscalls, no memory beyond
// registers) as long as syncway's median seen -> applied, run after the same kind of idle pause,
// timed like the figure. Its tail is what this vCPU adds to any job of that length: interrupts
// and the hypervisor taking the vCPU away (which /proc/stat's steal does not always count).
class CpuJob {
public:
    // Calibrated so that its fastest run takes about `us`.
    explicit CpuJob(double us)
    {
        uint64_t n = 1000;
        for (int round = 0; round < 4; ++round) {
            double fastest = 1e18;
            for (int i = 0; i < 20; ++i)
                fastest = std::min(fastest, run_us(n));
            n = std::max<uint64_t>(1, uint64_t(double(n) * us / std::max(fastest, 0.01)));
        }
        spins_ = n;
    }
    double run_us() const { return run_us(spins_); }

private:
    static double run_us(uint64_t n)
    {
        int64_t t0 = now_ns();
        uint64_t x = 88172645463325252ull;
        for (uint64_t i = 0; i < n; ++i) {  // xorshift: each step depends on the last
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        sink_ = x;
        return double(now_ns() - t0) / 1000;
    }
    static inline volatile uint64_t sink_ = 0;
    uint64_t spins_ = 1;
};

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

double mean(const std::vector<double>& v)
{
    double sum = 0;
    for (double x : v)
        sum += x;
    return v.empty() ? 0 : sum / double(v.size());
}

class Bench {
public:
    explicit Bench(int iterations) : iterations_(iterations)
    {
        display_ = wl_display_connect(nullptr);
        if (!display_)
            die("cannot connect to the compositor");
        wl_registry* registry = own(wl_display_get_registry(display_));
        wl_registry_add_listener(registry, &registry_listener, g_.get());
        wl_display_roundtrip(display_);
        if (!g_->core.complete() || !g_->core.subcompositor || !g_->presentation)
            die("the compositor lacks a global this benchmark needs");
        if (!g_->syncobj)
            die("wp_linux_drm_syncobj_manager_v1 is not advertised (--syncobj off?)");
        own(g_->presentation);
        own(g_->syncobj);
        wp_presentation_add_listener(g_->presentation, &presentation_listener, g_.get());
        // The signal is then one pipe write (no identity check per call); every timeline and
        // signaler fd is closed through syncobj_fd_close, as that flag requires.
        check(syncobj_open_flags(SYNCOBJ_BACKEND_AUTO, SYNCOBJ_OPEN_CACHE_FD_IDENTITY, &dev_), "syncobj_open");
        check(syncobj_create(dev_, 0, &acquire_fd_), "syncobj_create");
        check(syncobj_create(dev_, 0, &release_fd_), "syncobj_create");
        acquire_ = own(wp_linux_drm_syncobj_manager_v1_import_timeline(g_->syncobj, acquire_fd_));
        release_ = own(wp_linux_drm_syncobj_manager_v1_import_timeline(g_->syncobj, release_fd_));
        make_window();
    }

    void run()
    {
        std::mt19937 rng(42);
        std::uniform_int_distribution<int> phase_us(0, 16667);
        uint64_t point = 0;
        explicit_frame(++point);  // the first commit of each surface replaces nothing
        implicit_frame();
        // The floor is sampled before and after the frames, not between them: an extra pause
        // there would shift the explicit commits' phase against the output's frame clock.
        EchoProcess echo;
        CpuTicks start = CpuTicks::now();
        auto sample_floor = [&] {
            for (int i = 0; i < (iterations_ + 1) / 2; ++i) {
                std::this_thread::sleep_for(std::chrono::microseconds(phase_us(rng)));
                floor_us_.push_back(echo.round_trip());
            }
        };
        sample_floor();
        for (int i = 0; i < iterations_; ++i) {
            std::this_thread::sleep_for(std::chrono::microseconds(phase_us(rng)));
            explicit_frame(++point);
            std::this_thread::sleep_for(std::chrono::microseconds(phase_us(rng)));
            implicit_frame();
        }
        sample_floor();
        CpuTicks end = CpuTicks::now();
        if (g_->clock != CLOCK_MONOTONIC)
            die("the presentation clock is not CLOCK_MONOTONIC");
        print("explicit", explicit_, "acquire signaled");
        print("implicit", implicit_, "commit (baseline)");
        std::printf("%-32s p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  (n=%zu; the floor of the two wake-ups in "
                    "\"applied\")\n",
                    "eventfd ping-pong round trip:", percentile(floor_us_, 0.5), percentile(floor_us_, 0.9),
                    percentile(floor_us_, 0.99), floor_us_.size());
        std::vector<double> in_compositor = print_trace();
        if (end.total > start.total)  // a tail without preemption of our processes is often this
            std::printf("vCPU time stolen by the host during the run: %.1f %% (/proc/stat steal)\n",
                        100.0 * double(end.steal - start.steal) / double(end.total - start.total));
        std::printf("B3 applied p99: explicit %.1f us vs implicit %.1f us (ratio %.2f), ping-pong floor %.1f us; "
                    "presented p50: explicit %.2f ms vs implicit %.2f ms (ratio %.2f)\n",
                    percentile(explicit_.applied_us, 0.99), percentile(implicit_.applied_us, 0.99),
                    percentile(explicit_.applied_us, 0.99) / percentile(implicit_.applied_us, 0.99),
                    percentile(floor_us_, 0.99), percentile(explicit_.presented_us, 0.5) / 1000,
                    percentile(implicit_.presented_us, 0.5) / 1000,
                    percentile(explicit_.presented_us, 0.5) / percentile(implicit_.presented_us, 0.5));
        if (!in_compositor.empty()) {
            CpuJob job(percentile(in_compositor, 0.5));
            std::vector<double> job_us;
            for (size_t i = 0; i < in_compositor.size(); ++i) {
                std::this_thread::sleep_for(std::chrono::microseconds(phase_us(rng) / 8));
                job_us.push_back(job.run_us());
            }
            size_t over = size_t(std::count_if(job_us.begin(), job_us.end(), [](double us) { return us > kGoalUs; }));
            std::printf("same-length pure CPU job on this machine (the goal's floor here): p50 %.1f us  p90 %.1f us  "
                        "p99 %.1f us, %.1f %% over %.0f us (n=%zu)\n",
                        percentile(job_us, 0.5), percentile(job_us, 0.9), percentile(job_us, 0.99),
                        100.0 * double(over) / double(job_us.size()), kGoalUs, job_us.size());
            double p99 = percentile(in_compositor, 0.99);
            std::printf("B3 goal, signal seen -> commit applied inside syncway: p50 %.1f us, p99 %.1f us (goal p99 "
                        "<= %.0f us: %s)\n",
                        percentile(in_compositor, 0.5), p99, kGoalUs, p99 <= kGoalUs ? "met" : "NOT met");
        }
    }

    ~Bench()
    {
        syncobj_fd_close(dev_, acquire_fd_);
        syncobj_fd_close(dev_, release_fd_);
        syncobj_close(dev_);
        // The proxies go before their display (client-side memory only; the compositor sees a
        // client that disconnects), the last made first.
        for (auto it = owned_.rbegin(); it != owned_.rend(); ++it)
            wl_proxy_destroy(*it);
        window_.reset();
        g_.reset();
        wl_display_disconnect(display_);
    }

private:
    template <typename Proxy> Proxy* own(Proxy* proxy)
    {
        owned_.push_back(reinterpret_cast<wl_proxy*>(proxy));
        return proxy;
    }

    void make_window()
    {
        window_ = std::make_unique<syncway::testing::Toplevel>(g_->core.compositor, g_->core.wm_base,
                                                               "bench-protocol-acquire");
        wl_display_roundtrip(display_);
        if (!window_->configured())
            die("the compositor did not configure the window");
        parent_ = window_->surface();
        wl_surface_attach(parent_, own(solid_buffer(g_->core.shm, 0xff202020)), 0, 0);
        wl_surface_commit(parent_);
        for (int i = 0; i < 2; ++i) {
            Side& side = i == 0 ? explicit_side_ : implicit_side_;
            side.surface = own(wl_compositor_create_surface(g_->core.compositor));
            wl_subsurface* sub = own(wl_subcompositor_get_subsurface(g_->core.subcompositor, side.surface, parent_));
            wl_subsurface_set_position(sub, i * (kSize + 8), 0);
            wl_subsurface_set_desync(sub);
            for (int b = 0; b < 2; ++b) {
                side.buffers[b] = own(solid_buffer(g_->core.shm, b ? 0xff3060c0 : 0xffc06030));
                if (i == 1)
                    wl_buffer_add_listener(side.buffers[b], &buffer_listener, &side.released_ns[b]);
            }
        }
        wl_surface_commit(parent_);
        sync_ = own(wp_linux_drm_syncobj_manager_v1_get_surface(g_->syncobj, explicit_side_.surface));
        wl_display_roundtrip(display_);
    }

    struct Side {
        wl_surface* surface = nullptr;
        wl_buffer* buffers[2] = {};
        int64_t released_ns[2] = {-1, -1};
        int next = 0;
        bool first = true;
    };

    Feedback* attach_and_feedback(Side& side)
    {
        auto* fb = new Feedback;
        wl_surface_attach(side.surface, side.buffers[side.next], 0, 0);
        wl_surface_damage_buffer(side.surface, 0, 0, kSize, kSize);
        wp_presentation_feedback_add_listener(wp_presentation_feedback(g_->presentation, side.surface),
                                              &feedback_listener, fb);
        return fb;
    }

    void wait_feedback(Feedback* fb)
    {
        while (!fb->done)
            if (wl_display_dispatch(display_) < 0)
                die("lost the compositor");
    }

    void explicit_frame(uint64_t point)
    {
        Side& side = explicit_side_;
        int signaler = -1;
        check(syncobj_submit(dev_, acquire_fd_, point, &signaler), "syncobj_submit");
        Feedback* fb = attach_and_feedback(side);
        wp_linux_drm_syncobj_surface_v1_set_acquire_point(sync_, acquire_, uint32_t(point >> 32), uint32_t(point));
        wp_linux_drm_syncobj_surface_v1_set_release_point(sync_, release_, uint32_t(point >> 32), uint32_t(point));
        wl_surface_commit(side.surface);
        wl_display_roundtrip(display_);  // the compositor now holds the commit

        int efd = eventfd(0, EFD_CLOEXEC);
        if (!side.first)  // the previous commit's release point: signaled when this one applies
            check(syncobj_eventfd(dev_, release_fd_, point - 1, efd, 0), "syncobj_eventfd");
        int64_t t0 = now_ns();
        check(syncobj_signaler_signal(dev_, signaler), "syncobj_signaler_signal");
        if (!side.first)
            signal_ns_[point] = t0;
        if (!side.first) {
            pollfd p{efd, POLLIN, 0};
            if (poll(&p, 1, 5000) != 1)
                die("the previous release point was not signaled within 5 s of the acquire signal");
            explicit_.applied_us.push_back(double(now_ns() - t0) / 1000);
        }
        close(efd);
        check(syncobj_fd_close(dev_, signaler), "syncobj_fd_close");
        wait_feedback(fb);
        if (!side.first && fb->presented_ns >= 0)
            explicit_.presented_us.push_back(double(fb->presented_ns - t0) / 1000);
        delete fb;
        side.first = false;
        side.next ^= 1;
    }

    void implicit_frame()
    {
        Side& side = implicit_side_;
        Feedback* fb = attach_and_feedback(side);
        int previous = side.next ^ 1;
        side.released_ns[previous] = -1;
        int64_t t0 = now_ns();
        wl_surface_commit(side.surface);
        wl_display_flush(display_);
        if (!side.first) {
            while (side.released_ns[previous] < 0)
                if (wl_display_dispatch(display_) < 0)
                    die("lost the compositor");
            implicit_.applied_us.push_back(double(side.released_ns[previous] - t0) / 1000);
        }
        wait_feedback(fb);
        if (!side.first && fb->presented_ns >= 0)
            implicit_.presented_us.push_back(double(fb->presented_ns - t0) / 1000);
        delete fb;
        side.first = false;
        side.next ^= 1;
    }

    // The compositor's own timestamps of the explicit commits (its recording's trace, see
    // docs/recording.md: commits that waited for their acquire point have t_unlock); returns
    // seen -> applied (us), empty without a trace.
    std::vector<double> print_trace()
    {
        const char* dir = std::getenv(kTraceEnv);
        if (!dir || !*dir)
            return {};
        std::string path = std::string(dir) + "/trace.jsonl";
        std::ifstream in(path);
        std::vector<double> wake, work, to_unlock, in_wlroots, total, to_release, whole;
        std::string line;
        // Our own trace lines: flat enough to read a number after its key without a JSON parser.
        auto number = [&line](const char* key, size_t from = 0) -> std::optional<int64_t> {
            size_t at = line.find(std::string("\"") + key + "\":", from);
            if (at == std::string::npos)
                return std::nullopt;
            const char* p = line.c_str() + at + std::strlen(key) + 3;
            if (*p < '0' || *p > '9')
                return std::nullopt;  // null
            return std::strtoll(p, nullptr, 10);
        };
        while (std::getline(in, line)) {
            size_t acquire_at = line.find("\"acquire\":{");
            auto point_v = acquire_at == std::string::npos ? std::nullopt : number("point", acquire_at);
            auto seen_v = number("t_acquire_signaled"), unlock_v = number("t_unlock"), applied_v = number("t_applied");
            auto released_v = number("t_replaced_released");
            if (!point_v || !seen_v || !unlock_v || !applied_v)
                continue;
            uint64_t point = uint64_t(*point_v);
            int64_t seen = *seen_v, unlock = *unlock_v, applied = *applied_v, released = released_v.value_or(0);
            auto it = signal_ns_.find(point);
            if (it == signal_ns_.end())
                continue;
            wake.push_back(double(seen - it->second) / 1000);
            to_unlock.push_back(double(unlock - seen) / 1000);
            in_wlroots.push_back(double(applied - unlock) / 1000);
            work.push_back(double(applied - seen) / 1000);
            total.push_back(double(applied - it->second) / 1000);
            if (released_v) {
                to_release.push_back(double(released - applied) / 1000);
                whole.push_back(double(released - seen) / 1000);
            }
        }
        std::filesystem::remove_all(dir);
        if (wake.empty()) {
            std::printf("compositor trace: no held commits in %s\n", path.c_str());
            return {};
        }
        auto row = [](const char* what, const std::vector<double>& v) {
            std::printf("  %-46s p50 %7.1f us  p90 %7.1f us  p99 %7.1f us\n", what, percentile(v, 0.5),
                        percentile(v, 0.9), percentile(v, 0.99));
        };
        std::printf("explicit, inside the compositor (n=%zu):\n", wake.size());
        row("signal -> compositor loop sees it (wake-up)", wake);
        row("seen -> unlock_cached (service + ours)", to_unlock);
        row("unlock_cached -> state applied (wlroots)", in_wlroots);
        row("seen -> applied (compositor work: the goal)", work);
        row("signal -> applied, compositor clock", total);
        if (!to_release.empty()) {
            row("applied -> replaced buffer's release signaled", to_release);
            // Work moved from before "applied" to after it shows here, work saved does not.
            row("seen -> release signaled (all of it)", whole);
        }
        return work;
    }

    static void print(const char* name, const Samples& s, const char* from)
    {
        std::printf("%-9s from %-18s applied: p50 %7.1f us  p90 %7.1f us  p99 %7.1f us  (n=%zu) | presented: p50 "
                    "%6.2f ms  p99 %6.2f ms  mean %6.2f ms  (n=%zu)\n",
                    name, from, percentile(s.applied_us, 0.5), percentile(s.applied_us, 0.9),
                    percentile(s.applied_us, 0.99), s.applied_us.size(),
                    percentile(s.presented_us, 0.5) / 1000, percentile(s.presented_us, 0.99) / 1000,
                    mean(s.presented_us) / 1000, s.presented_us.size());
    }

    int iterations_;
    wl_display* display_ = nullptr;
    std::unique_ptr<Globals> g_ = std::make_unique<Globals>();
    syncobj_device* dev_ = nullptr;
    int acquire_fd_ = -1, release_fd_ = -1;
    wp_linux_drm_syncobj_timeline_v1* acquire_ = nullptr;
    wp_linux_drm_syncobj_timeline_v1* release_ = nullptr;
    std::unique_ptr<syncway::testing::Toplevel> window_;
    wl_surface* parent_ = nullptr;  // window_'s
    wp_linux_drm_syncobj_surface_v1* sync_ = nullptr;
    Side explicit_side_, implicit_side_;
    Samples explicit_, implicit_;
    std::map<uint64_t, int64_t> signal_ns_;  // explicit point -> its signal time
    std::vector<double> floor_us_;           // eventfd ping-pong round trips
    std::vector<wl_proxy*> owned_;           // destroyed before the display
};

} // namespace

int main(int argc, char** argv)
{
    int iterations = 300;
    std::string syncway = SYNCWAY_BIN;
    for (int i = 1; i < argc; ++i) {
        std::string_view a(argv[i]);
        if (a == "--iterations" && i + 1 < argc)
            iterations = std::atoi(argv[++i]);
        else if (a == "--syncway" && i + 1 < argc)
            syncway = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--iterations N] [--syncway PATH]\n", argv[0]);
            return 2;
        }
    }
    if (iterations < 10) {
        std::fprintf(stderr, "bench-protocol-acquire: --iterations must be at least 10\n");
        return 2;
    }
    if (!std::getenv(kChildEnv)) {
        // Run inside a fresh headless syncway, which hands us its sockets and exits with us.
        setenv(kChildEnv, "1", 1);
        char trace[] = "/tmp/syncway-b3-trace-XXXXXX";
        if (!mkdtemp(trace))
            die(std::string("mkdtemp: ") + std::strerror(errno));
        setenv(kTraceEnv, trace, 1);  // tells the child where its compositor records
        char self_path[4096] = {};
        if (readlink("/proc/self/exe", self_path, sizeof self_path - 1) < 0)
            die(std::string("readlink /proc/self/exe: ") + std::strerror(errno));
        std::string self = self_path, n = std::to_string(iterations);
        std::vector<const char*> args = {syncway.c_str(), "--backend", "headless", "--output", "640x480",
                                         "--record", trace, "--record-trace-only", "--",
                                         self.c_str(),    "--iterations", n.c_str(), nullptr};
        execv(syncway.c_str(), const_cast<char**>(args.data()));
        die("cannot run " + syncway + ": " + std::strerror(errno));
    }
    Bench bench(iterations);
    bench.run();
    return 0;
}
