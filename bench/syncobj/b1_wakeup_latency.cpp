// B1: latency from a signal (one 1-byte write into the signaler, a pipe the service reads) to
// the waiter's eventfd becoming readable, with signaler, service and waiter in three processes;
// printed beside an eventfd ping-pong round trip between two processes, measured in this run
// (before and after, to show drift on a shared machine). Measured twice: "checked" clients
// (syncobj_open: the library checks the signaler's identity with an fstat before the write)
// and "cached" ones (SYNCOBJ_OPEN_CACHE_FD_IDENTITY: the signal is the write alone).
#include "bench_support.hpp"

#include "service/fd_passing.hpp"

#include <syncobj/syncobj.h>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cstring>

using namespace syncobj_bench;

namespace {

void must(bool ok, const char* what)
{
    if (!ok) {
        fprintf(stderr, "b1: %s failed: %s\n", what, syncobj_last_error());
        _exit(1);
    }
}

// Round trips of an eventfd ping-pong between two processes (ns).
std::vector<int64_t> eventfd_ping_pong(int iterations)
{
    int ping = eventfd(0, EFD_CLOEXEC), pong = eventfd(0, EFD_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t v;
        for (int i = 0; i < iterations; i++) {
            if (read(ping, &v, 8) != 8 || write(pong, &v, 8) != 8)
                _exit(1);
        }
        _exit(0);
    }
    std::vector<int64_t> rtt;
    rtt.reserve(iterations);
    uint64_t one = 1, v;
    for (int i = 0; i < iterations; i++) {
        int64_t t0 = now_ns();
        if (write(ping, &one, 8) != 8 || read(pong, &v, 8) != 8)
            abort();
        rtt.push_back(now_ns() - t0);
    }
    waitpid(pid, nullptr, 0);
    close(ping);
    close(pong);
    return rtt;
}

// Signal → eventfd readable, three processes (ns).
std::vector<int64_t> signal_to_wakeup(int iterations, bool cached)
{
    uint32_t open_flags = cached ? SYNCOBJ_OPEN_CACHE_FD_IDENTITY : 0;
    ServiceProcess service;
    auto* t0s = static_cast<int64_t*>(mmap(nullptr, sizeof(int64_t) * iterations, PROT_READ | PROT_WRITE,
                                           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    int ctl[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl);
    pid_t signaler = fork();
    if (signaler == 0) {
        syncobj_device* dev;
        must(syncobj_open_flags(SYNCOBJ_BACKEND_SERVICE, open_flags, &dev) == 0, "open");
        int tl;
        must(syncobj_create(dev, 0, &tl) == 0, "create");
        must(syncway::syncobj::send_one_fd(ctl[0], tl), "send timeline");
        char c;
        for (int i = 0; i < iterations; i++) {
            int sig;
            must(syncobj_submit(dev, tl, static_cast<uint64_t>(i + 1), &sig) == 0, "submit");
            must(write(ctl[0], "s", 1) == 1, "ctl");
            must(read(ctl[0], &c, 1) == 1, "ctl"); // the waiter registered its eventfd
            t0s[i] = now_ns();
            must(syncobj_signaler_signal(dev, sig) == 0, "signal");
            must(read(ctl[0], &c, 1) == 1, "ctl"); // the waiter woke
            // Outside the timed window: a signaled signaler's close costs nothing more.
            must(syncobj_fd_close(dev, sig) == 0, "close signaler");
        }
        _exit(0);
    }
    std::vector<int64_t> lat;
    lat.reserve(iterations);
    int tl = syncway::syncobj::recv_one_fd(ctl[1]);
    syncobj_device* dev;
    must(syncobj_open_flags(SYNCOBJ_BACKEND_SERVICE, open_flags, &dev) == 0, "open");
    int efd = eventfd(0, EFD_CLOEXEC);
    char c;
    for (int i = 0; i < iterations; i++) {
        must(read(ctl[1], &c, 1) == 1, "ctl");
        must(syncobj_eventfd(dev, tl, static_cast<uint64_t>(i + 1), efd, 0) == 0, "eventfd");
        must(write(ctl[1], "r", 1) == 1, "ctl");
        uint64_t v;
        must(read(efd, &v, 8) == 8, "read eventfd");
        lat.push_back(now_ns() - t0s[i]);
        must(write(ctl[1], "w", 1) == 1, "ctl");
    }
    waitpid(signaler, nullptr, 0);
    syncobj_fd_close(dev, tl);
    syncobj_close(dev);
    close(efd);
    munmap(t0s, sizeof(int64_t) * iterations);
    return lat;
}

} // namespace

int main(int argc, char** argv)
{
    int iterations = argc > 1 ? atoi(argv[1]) : 20000;
    if (iterations <= 0) {
        fprintf(stderr, "usage: %s [ITERATIONS]   (default 20000)\n", argv[0]);
        return 2;
    }
    auto floor = eventfd_ping_pong(iterations);
    // Warm-up, reported but not counted: a fresh process's first thousands of submissions pay
    // the kernel's growth of its caches for the objects each one creates (p50 up to 3x).
    auto warm_up = signal_to_wakeup(iterations, false);
    auto checked = signal_to_wakeup(iterations, false);
    auto cached = signal_to_wakeup(iterations, true);
    auto floor_after = eventfd_ping_pong(iterations);
    double f50 = percentile(floor, 0.5), f99 = percentile(floor, 0.99);
    printf("B1 signal -> waiter eventfd readable (3 processes, %d iterations)\n", iterations);
    printf("  baseline eventfd ping-pong round trip: p50 %.2f us  p99 %.2f us  (after the runs: p50 %.2f us  p99 %.2f "
           "us)\n",
           f50, f99, percentile(floor_after, 0.5), percentile(floor_after, 0.99));
    for (auto [name, lat] : {std::pair{"checked", &checked}, std::pair{"cached", &cached}}) {
        double l50 = percentile(*lat, 0.5), l99 = percentile(*lat, 0.99);
        printf("  service signal -> wake-up, %-7s:   p50 %.2f us  p99 %.2f us   ratio p50 / baseline p50: %.2f\n",
               name, l50, l99, l50 / f50);
    }
    printf("  (warm-up run before them, not counted: p50 %.2f us  p99 %.2f us)\n", percentile(warm_up, 0.5),
           percentile(warm_up, 0.99));
    printf("  goals: p50 <= 2.0 x baseline p50; p99 < 50 us\n");
    return 0;
}
