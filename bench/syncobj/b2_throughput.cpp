// B2: signal+wait pairs per second through the service, for 1 client over 10 to 100 000 live
// timelines (or as many as RLIMIT_NOFILE allows; is the per-pair cost flat in the number of
// timelines? the last line says, beside the in-process core's growth) and for 8 and 64 client
// processes over 10 000, beside the same work on in-process timelines (the core, no IPC).
// One pair: signal the next point of a timeline, then wait for that point. Clients batch 256
// pairs per round (one SIGNAL request for 256 timelines picked at random, then one WAIT_ALL with
// timeout 0), as the array-based kernel API allows; with fewer than 256 timelines a batch names
// some twice (at increasing points), so every run does the same work per request.
// "checked" clients open the device with syncobj_open (one getsockopt per fd per call checks
// the fd's identity); "cached" ones with SYNCOBJ_OPEN_CACHE_FD_IDENTITY (no per-use syscall).
#include "bench_support.hpp"

#include "core/timeline.hpp"

#include <syncobj/syncobj.h>

#include <sys/mman.h>
#include <sys/resource.h>

#include <memory>
#include <string>
#include <random>

using namespace syncobj_bench;

namespace {

constexpr uint32_t kBatch = 256; // the wire maximum per request (SYNCOBJ_WIRE_MAX_COUNT)

struct NullWaiter final : syncway::syncobj::core::Waiter {
    int fired = 0;
    void resolved(int) override { fired++; }
};

struct Figure {
    double pairs_per_s = 0;   // wall clock, summed over clients
    double cpu_ns_per_pair = 0; // CPU time of every process involved (service + clients)
    double service_ns_per_pair = 0; // the service process's share of it
};

int64_t thread_cpu_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Pairs/s on core timelines in this process: the floor without any IPC.
Figure in_process(size_t timelines, double seconds)
{
    std::vector<std::unique_ptr<syncway::syncobj::core::Timeline>> tls;
    for (size_t i = 0; i < timelines; i++)
        tls.push_back(std::make_unique<syncway::syncobj::core::Timeline>());
    int64_t cpu0 = thread_cpu_ns();
    std::vector<uint64_t> next(timelines, 0);
    std::mt19937 rng(1);
    NullWaiter w;
    uint64_t pairs = 0;
    int64_t end = now_ns() + static_cast<int64_t>(seconds * 1e9);
    int64_t start = now_ns();
    while (now_ns() < end) {
        for (int r = 0; r < 64; r++) {
            size_t picks[kBatch];
            for (auto& p : picks)
                p = rng() % timelines;
            for (size_t p : picks)
                tls[p]->signal(++next[p]);
            for (size_t p : picks)
                (void)tls[p]->wait(w, next[p], 0);
            pairs += kBatch;
        }
    }
    Figure f;
    f.pairs_per_s = static_cast<double>(pairs) / (static_cast<double>(now_ns() - start) / 1e9);
    f.cpu_ns_per_pair = static_cast<double>(thread_cpu_ns() - cpu0) / static_cast<double>(pairs);
    return f;
}

void must(bool ok, const char* what)
{
    if (!ok) {
        fprintf(stderr, "b2: %s failed: %s\n", what, syncobj_last_error());
        _exit(1);
    }
}

// Pairs/s summed over `clients` processes sharing `timelines` timelines.
Figure through_service(int clients, size_t timelines, double seconds, bool cached)
{
    syncway::syncobj::Service::Options options;
    options.limits.max_handles_per_connection = static_cast<uint32_t>(timelines + 1024);
    // One client may hold every timeline of the run, each a service fd; the process's whole
    // fd limit is the budget (main() checked it is large enough).
    options.limits.max_fds_per_connection = static_cast<uint32_t>(timelines + 1024);
    options.limits.max_fds = UINT32_MAX;
    auto service = std::make_unique<ServiceProcess>(std::move(options));
    // Per client: pairs, wall ns, CPU ns of its timed loop.
    auto* counts = static_cast<uint64_t*>(mmap(nullptr, sizeof(uint64_t) * 3 * clients, PROT_READ | PROT_WRITE,
                                               MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    int ready[2], go[2];
    must(pipe(ready) == 0 && pipe(go) == 0, "pipe");
    size_t per_client = timelines / clients;
    std::vector<pid_t> pids;
    for (int c = 0; c < clients; c++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(go[1]);
            syncobj_device* dev;
            must(syncobj_open_flags(SYNCOBJ_BACKEND_SERVICE, cached ? SYNCOBJ_OPEN_CACHE_FD_IDENTITY : 0, &dev) == 0,
                 "open");
            std::vector<int> fds(per_client);
            std::vector<uint64_t> next(per_client, 0);
            for (auto& fd : fds)
                must(syncobj_create(dev, 0, &fd) == 0, "create");
            must(write(ready[1], "r", 1) == 1, "ready");
            char b;
            must(read(go[0], &b, 1) == 0, "go"); // EOF: everyone starts together
            std::mt19937 rng(static_cast<unsigned>(c + 1));
            uint64_t pairs = 0;
            int64_t start = now_ns(), end = start + static_cast<int64_t>(seconds * 1e9);
            int64_t cpu_start = thread_cpu_ns();
            int batch_fds[kBatch];
            uint64_t batch_points[kBatch];
            while (now_ns() < end) {
                for (uint32_t i = 0; i < kBatch; i++) {
                    // Random timelines; one named twice gets increasing points, signaled in
                    // order within the request, so every wait is on a point this batch signaled.
                    size_t k = rng() % per_client;
                    batch_fds[i] = fds[k];
                    batch_points[i] = ++next[k];
                }
                uint32_t n = kBatch;
                must(syncobj_signal(dev, batch_fds, batch_points, n) == 0, "signal");
                must(syncobj_wait(dev, batch_fds, batch_points, n, 0, SYNCOBJ_WAIT_ALL, nullptr) == 0, "wait");
                pairs += n;
            }
            counts[3 * c] = pairs;
            counts[3 * c + 1] = static_cast<uint64_t>(now_ns() - start);
            counts[3 * c + 2] = static_cast<uint64_t>(thread_cpu_ns() - cpu_start);
            _exit(0);
        }
        pids.push_back(pid);
    }
    close(ready[1]);
    close(go[0]);
    char b;
    for (int c = 0; c < clients; c++)
        must(read(ready[0], &b, 1) == 1, "client start");
    // Only the timed loops count, not creating the timelines (100 000 creates would swamp it).
    int64_t service_cpu0 = service->cpu_ns();
    close(go[1]);
    for (pid_t p : pids)
        waitpid(p, nullptr, 0);
    int64_t service_cpu = service->cpu_ns() - service_cpu0;
    service.reset();
    Figure f;
    uint64_t pairs = 0;
    int64_t cpu = service_cpu;
    for (int c = 0; c < clients; c++) {
        f.pairs_per_s += static_cast<double>(counts[3 * c]) / (static_cast<double>(counts[3 * c + 1]) / 1e9);
        pairs += counts[3 * c];
        cpu += static_cast<int64_t>(counts[3 * c + 2]);
    }
    f.cpu_ns_per_pair = static_cast<double>(cpu) / static_cast<double>(pairs);
    f.service_ns_per_pair = static_cast<double>(service_cpu) / static_cast<double>(pairs);
    munmap(counts, sizeof(uint64_t) * 3 * clients);
    close(ready[0]);
    return f;
}

} // namespace

int main(int argc, char** argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0 || argc == 3 || argc > 5) {
        fprintf(stderr, "usage: %s [SECONDS_PER_RUN [CLIENTS TIMELINES [checked|cached]]]   (default 2 s, all runs)\n",
                argv[0]);
        return 2;
    }
    struct Run {
        int clients;
        size_t timelines;
        bool cached;
    };
    // Client and service each hold one fd per timeline. Root may raise the hard limit.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = static_cast<rlim_t>(100000 + 1024);
    if (rl.rlim_cur < want) {
        rlimit raised{want, std::max(want, rl.rlim_max)};
        if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    // 100 000 timelines, or as many (in thousands) as the fd limit allows.
    size_t largest = 100000;
    if (rl.rlim_cur < largest + 1024 && rl.rlim_cur > 11024)
        largest = (static_cast<size_t>(rl.rlim_cur) - 1024) / 1000 * 1000;
    std::vector<Run> runs;
    for (size_t n : {size_t(10), size_t(1000), size_t(10000), largest})
        for (bool cached : {false, true})
            runs.push_back(Run{1, n, cached});
    for (int c : {8, 64})
        runs.push_back(Run{c, 10000, true});
    if (argc > 3) // one configuration only: SECONDS CLIENTS TIMELINES [checked|cached]
        runs = {Run{atoi(argv[2]), static_cast<size_t>(atol(argv[3])), argc > 4 && std::string(argv[4]) == "cached"}};
    printf("B2 signal+wait pairs/s (batches of %u, random timelines; %.1f s per run)\n", kBatch, seconds);
    printf("  %-40s %13s %13s %7s %16s %18s %16s\n", "run", "service", "in-process", "ratio", "svc CPU ns/pair",
           "(service process)", "base CPU ns/pair");
    size_t base_for = 0;
    Figure base;
    // 1 client, cached: CPU ns/pair by timeline count, for the flatness summary.
    std::vector<std::pair<size_t, std::pair<double, double>>> sweep;
    for (Run r : runs) {
        if (rl.rlim_cur < r.timelines + 1024) {
            printf("  %2d client(s), %6zu timelines: skipped, RLIMIT_NOFILE %llu is too low (needs %zu)\n", r.clients,
                   r.timelines, static_cast<unsigned long long>(rl.rlim_cur), r.timelines + 1024);
            continue;
        }
        if (base_for != r.timelines) { // one baseline per timeline count
            base = in_process(r.timelines, seconds);
            base_for = r.timelines;
        }
        Figure svc = through_service(r.clients, r.timelines, seconds, r.cached);
        printf("  %2d client(s), %6zu timelines, %-7s %11.0f/s %11.0f/s %7.3f %16.0f %18.0f %16.0f\n", r.clients,
               r.timelines, r.cached ? "cached" : "checked", svc.pairs_per_s, base.pairs_per_s,
               svc.pairs_per_s / base.pairs_per_s, svc.cpu_ns_per_pair, svc.service_ns_per_pair, base.cpu_ns_per_pair);
        fflush(stdout);
        if (r.clients == 1 && r.cached)
            sweep.push_back({r.timelines, {svc.cpu_ns_per_pair, base.cpu_ns_per_pair}});
    }
    if (sweep.size() > 1) {
        // The figure the goal names, beside its baseline: CPU per pair at each timeline count
        // relative to the smallest count, for the service and the in-process core.
        printf("  CPU ns/pair growth vs %zu timelines (1 client, cached):", sweep[0].first);
        for (size_t i = 1; i < sweep.size(); i++)
            printf("  %zu: service x%.2f, in-process x%.2f", sweep[i].first,
                   sweep[i].second.first / sweep[0].second.first, sweep[i].second.second / sweep[0].second.second);
        printf("\n");
    }
    printf("  goal: >= 200000 pairs/s for 1 client; CPU ns/pair flat as timelines grow\n");
    return 0;
}
