// B2: signal+wait pairs per second through the service, for 1, 8 and 64 client processes over
// 10 000 live timelines, beside the same work on in-process timelines (the core, no IPC).
// One pair: signal the next point of a timeline, then wait for that point. Clients batch 256
// pairs per round (one SIGNAL request for 256 timelines, then one WAIT_ALL with timeout 0),
// as the array-based kernel API allows.
#include "bench_support.hpp"

#include "core/timeline.hpp"

#include <syncobj/syncobj.h>

#include <sys/mman.h>
#include <sys/resource.h>

#include <memory>
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
};

int64_t cpu_ns(int who)
{
    rusage ru{};
    getrusage(who, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ll +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ll;
}

// Pairs/s on core timelines in this process: the floor without any IPC.
Figure in_process(size_t timelines, double seconds)
{
    int64_t cpu0 = cpu_ns(RUSAGE_SELF);
    std::vector<std::unique_ptr<syncway::syncobj::core::Timeline>> tls;
    for (size_t i = 0; i < timelines; i++)
        tls.push_back(std::make_unique<syncway::syncobj::core::Timeline>());
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
    f.cpu_ns_per_pair = static_cast<double>(cpu_ns(RUSAGE_SELF) - cpu0) / static_cast<double>(pairs);
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
Figure through_service(int clients, size_t timelines, double seconds)
{
    int64_t cpu0 = cpu_ns(RUSAGE_CHILDREN);
    auto service = std::make_unique<ServiceProcess>();
    auto* counts = static_cast<uint64_t*>(mmap(nullptr, sizeof(uint64_t) * 2 * clients, PROT_READ | PROT_WRITE,
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
            must(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) == 0, "open");
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
            int batch_fds[kBatch];
            uint64_t batch_points[kBatch];
            while (now_ns() < end) {
                for (uint32_t i = 0; i < kBatch; i++) {
                    // Distinct timelines within a batch (a random window), so each wait is
                    // on the point this batch signaled.
                    size_t base = rng() % per_client;
                    size_t k = (base + i) % per_client;
                    batch_fds[i] = fds[k];
                    batch_points[i] = ++next[k];
                }
                uint32_t n = static_cast<uint32_t>(std::min<size_t>(kBatch, per_client));
                must(syncobj_signal(dev, batch_fds, batch_points, n) == 0, "signal");
                must(syncobj_wait(dev, batch_fds, batch_points, n, 0, SYNCOBJ_WAIT_ALL, nullptr) == 0, "wait");
                pairs += n;
            }
            counts[2 * c] = pairs;
            counts[2 * c + 1] = static_cast<uint64_t>(now_ns() - start);
            _exit(0);
        }
        pids.push_back(pid);
    }
    close(ready[1]);
    close(go[0]);
    char b;
    for (int c = 0; c < clients; c++)
        must(read(ready[0], &b, 1) == 1, "client start");
    close(go[1]);
    for (pid_t p : pids)
        waitpid(p, nullptr, 0);
    service.reset(); // reaped: its CPU time now counts in RUSAGE_CHILDREN
    Figure f;
    uint64_t pairs = 0;
    for (int c = 0; c < clients; c++) {
        f.pairs_per_s += static_cast<double>(counts[2 * c]) / (static_cast<double>(counts[2 * c + 1]) / 1e9);
        pairs += counts[2 * c];
    }
    // Includes creating the timelines: a small, honest overhead on top of the pairs.
    f.cpu_ns_per_pair = static_cast<double>(cpu_ns(RUSAGE_CHILDREN) - cpu0) / static_cast<double>(pairs);
    munmap(counts, sizeof(uint64_t) * 2 * clients);
    close(ready[0]);
    return f;
}

} // namespace

int main(int argc, char** argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0) {
        fprintf(stderr, "usage: %s [SECONDS_PER_RUN [CLIENTS TIMELINES]]   (default 2 s, all runs)\n", argv[0]);
        return 2;
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    printf("B2 signal+wait pairs/s (batches of %u; %.1f s per run)\n", kBatch, seconds);
    printf("  %-30s %13s %13s %7s %16s %16s\n", "run", "service", "in-process", "ratio", "svc CPU ns/pair",
           "base CPU ns/pair");
    struct Run {
        int clients;
        size_t timelines;
    };
    std::vector<Run> runs{Run{1, 1000}, Run{1, 10000}, Run{1, 100000}, Run{8, 10000}, Run{64, 10000}};
    if (argc > 3) // one configuration only: SECONDS CLIENTS TIMELINES
        runs = {Run{atoi(argv[2]), static_cast<size_t>(atol(argv[3]))}};
    for (Run r : runs) {
        if (r.timelines >= 100000 && rl.rlim_cur < 2 * r.timelines + 1000)
            continue; // client and service each hold one fd per timeline
        Figure base = in_process(r.timelines, seconds);
        Figure svc = through_service(r.clients, r.timelines, seconds);
        printf("  %2d client(s), %6zu timelines %11.0f/s %11.0f/s %7.3f %16.0f %16.0f\n", r.clients, r.timelines,
               svc.pairs_per_s, base.pairs_per_s, svc.pairs_per_s / base.pairs_per_s, svc.cpu_ns_per_pair,
               base.cpu_ns_per_pair);
    }
    printf("  goal: >= 200000 pairs/s for 1 client; CPU ns/pair flat as timelines grow\n");
    return 0;
}
