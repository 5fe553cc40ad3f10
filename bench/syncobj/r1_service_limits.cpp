// R1, service side: what one client at each per-client limit of the userspace syncobj service
// costs the service (fds, heap bytes, RSS), beside the same client against a service without
// that limit (the baseline: what it could take before limits existed), measured in one run.
// The service runs in this process (as it does embedded in syncway); each client is a child
// process using the client library or the raw wire. After the client exits, what the service
// still holds is printed too (it must be back where it started).
#include "service/fd_passing.hpp"
#include "service/service.hpp"

#include <syncobj/syncobj.h>
#include <syncobj_service_wire.h>

#include <dirent.h>
#include <malloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>

using syncway::syncobj::Service;
using syncway::syncobj::ServiceLimits;

namespace {

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int open_fds()
{
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    while (dirent* e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

int64_t heap_bytes()
{
    struct mallinfo2 m = mallinfo2();
    return static_cast<int64_t>(m.uordblks + m.hblkhd);
}

int64_t rss_bytes()
{
    FILE* f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return static_cast<int64_t>(rss) * sysconf(_SC_PAGESIZE);
}

struct Usage {
    int fds;
    int64_t heap, rss;
    static Usage now() { return {open_fds(), heap_bytes(), rss_bytes()}; }
};

// What a client reports when it stopped: how many operations succeeded and the errno of the
// first refused one (0: it stopped at its own count).
struct ClientResult {
    int64_t done = 0;
    int error = 0;
};

struct Run {
    ClientResult result;
    Usage before, at_limit, after;
};

// One service with `limits`, one client running `client` (in a child); measures around it.
Run run_one(const ServiceLimits& limits, const std::function<ClientResult()>& client)
{
    char tmpl[] = "/tmp/syncobj-r1-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string path = dir + "/s.sock";
    Service::Options opt;
    opt.limits = limits;
    auto svc = Service::listen_at(path, std::move(opt));
    if (!svc) {
        fprintf(stderr, "r1: %s\n", svc.error().message.c_str());
        exit(1);
    }
    setenv("SYNCWAY_SYNCOBJ_SOCKET", path.c_str(), 1);
    setenv("SYNCWAY_SYNCOBJ_BACKEND", "service", 1);
    int report[2], go[2];
    if (pipe(report) != 0 || pipe(go) != 0)
        exit(1);
    malloc_trim(0);
    Run run;
    run.before = Usage::now();
    pid_t pid = fork();
    if (pid == 0) {
        svc->release(); // the child must not run (or destroy) the parent's service
        ClientResult r = client();
        if (write(report[1], &r, sizeof r) != sizeof r)
            _exit(1);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        _exit(0);
    }
    for (;;) {
        (*svc)->dispatch(1);
        pollfd p{report[0], POLLIN, 0};
        if (poll(&p, 1, 0) == 1)
            break;
    }
    if (read(report[0], &run.result, sizeof run.result) != sizeof run.result)
        exit(1);
    for (int i = 0; i < 20; i++)
        (*svc)->dispatch(1);
    run.at_limit = Usage::now();
    if (write(go[1], "g", 1) != 1)
        exit(1);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0)
        (*svc)->dispatch(1);
    int64_t end = now_ns() + 200000000;
    while (now_ns() < end)
        (*svc)->dispatch(1);
    malloc_trim(0);
    run.after = Usage::now();
    svc->reset();
    for (int fd : {report[0], report[1], go[0], go[1]})
        close(fd);
    rmdir(dir.c_str());
    return run;
}

syncobj_device* open_dev()
{
    syncobj_device* dev = nullptr;
    if (syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) != 0) {
        fprintf(stderr, "r1 client: %s\n", syncobj_last_error());
        _exit(1);
    }
    return dev;
}

// Repeats `op` until it fails or `cap` succeeded.
ClientResult repeat(int64_t cap, const std::function<int()>& op)
{
    ClientResult r;
    for (; r.done < cap; r.done++) {
        int e = op();
        if (e) {
            r.error = -e;
            break;
        }
    }
    return r;
}

void print(const char* what, uint32_t limit, const Run& limited, const Run& unlimited, const char* unit)
{
    auto line = [&](const char* label, const Run& r) {
        printf("    %-10s %8" PRId64 " %-10s refused: %-7s  +%6d fds  +%9.2f MB heap  +%9.2f MB RSS   after exit: %+d fds, %+.2f MB heap\n",
               label, r.result.done, unit, r.result.error ? strerrorname_np(r.result.error) : "-",
               r.at_limit.fds - r.before.fds, (r.at_limit.heap - r.before.heap) / 1e6,
               (r.at_limit.rss - r.before.rss) / 1e6, r.after.fds - r.before.fds, (r.after.heap - r.before.heap) / 1e6);
    };
    printf("  %s (limit %u)\n", what, limit);
    line("limited", limited);
    line("baseline", unlimited);
    if (limited.result.done > 0 && unlimited.result.done > 0) {
        double per = static_cast<double>(limited.at_limit.heap - limited.before.heap) / static_cast<double>(limited.result.done);
        printf("    -> %.0f heap bytes and %.2f fds per %s; the limit bounds one client at %.2f MB, %d fds (baseline: %.1fx that)\n",
               per, static_cast<double>(limited.at_limit.fds - limited.before.fds) / static_cast<double>(limited.result.done),
               unit, (limited.at_limit.heap - limited.before.heap) / 1e6, limited.at_limit.fds - limited.before.fds,
               static_cast<double>(unlimited.at_limit.heap - unlimited.before.heap) /
                   static_cast<double>(std::max<int64_t>(1, limited.at_limit.heap - limited.before.heap)));
    }
}

ServiceLimits unlimited()
{
    ServiceLimits l;
    l.max_connections = 100000;
    l.max_connections_per_client = 100000;
    l.max_handles_per_connection = (1u << 20) - 1;
    l.max_waits_per_connection = UINT32_MAX;
    l.max_fds_per_connection = UINT32_MAX;
    l.max_pending_points_per_timeline = UINT32_MAX;
    l.max_pending_points_per_connection = UINT32_MAX;
    l.max_fds = UINT32_MAX;
    return l;
}

} // namespace

int main(int argc, char** argv)
{
    // The fd limits are per connection: the process limit must not be what stops a client.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int64_t transfers = argc > 1 ? atoll(argv[1]) : 300000;
    ServiceLimits defaults;
    // The service-wide budget is not what is measured here (it is half the process's limit).
    ServiceLimits per_conn = defaults;
    per_conn.max_fds = UINT32_MAX;
    // Baselines stop at the limit's count times 4 (or the process's fd limit), enough to show
    // that nothing but the limit stopped them.
    auto cap = [](uint32_t limit) { return static_cast<int64_t>(limit) * 4; };
    uint64_t fd_room = rl.rlim_cur > 200 ? rl.rlim_cur - 200 : 0;

    printf("R1 (service side): one client at each per-connection limit of the userspace syncobj service\n");
    printf("  (in-process service as in syncway; RLIMIT_NOFILE %llu; heap = malloc in use, RSS of the service process)\n",
           static_cast<unsigned long long>(rl.rlim_cur));

    // Timelines held (CREATE; the client keeps every fd): each is a service fd.
    auto timelines = [](int64_t n) {
        return [n] {
            syncobj_device* dev = open_dev();
            return repeat(n, [&] {
                int tl;
                return syncobj_create(dev, 0, &tl);
            });
        };
    };
    // Without limits one client takes timelines until the whole process is out of fds.
    int64_t tl_base = std::min<int64_t>(cap(defaults.max_fds_per_connection), static_cast<int64_t>(fd_room));
    print("timelines held by one connection (max_fds_per_connection)", defaults.max_fds_per_connection,
          run_one(per_conn, timelines(cap(defaults.max_fds_per_connection))), run_one(unlimited(), timelines(tl_base)),
          "timelines");

    // Pending eventfd waits on one timeline: each keeps the eventfd.
    auto waits = [](int64_t n) {
        return [n] {
            syncobj_device* dev = open_dev();
            int tl;
            syncobj_create(dev, 0, &tl);
            return repeat(n, [&] {
                int efd = eventfd(0, EFD_CLOEXEC);
                int r = syncobj_eventfd(dev, tl, 1, efd, 0);
                close(efd);
                return r;
            });
        };
    };
    print("pending eventfd waits of one connection (max_waits_per_connection)", defaults.max_waits_per_connection,
          run_one(per_conn, waits(cap(defaults.max_waits_per_connection))),
          run_one(unlimited(), waits(std::min<int64_t>(cap(defaults.max_waits_per_connection), static_cast<int64_t>(fd_room)))),
          "waits");

    // TRANSFERs of one pending point to new points of another timeline.
    auto transfer = [](int64_t n) {
        return [n] {
            syncobj_device* dev = open_dev();
            int src, dst, sig;
            syncobj_create(dev, 0, &src);
            syncobj_create(dev, 0, &dst);
            syncobj_submit(dev, src, 1, &sig);
            uint64_t p = 1;
            return repeat(n, [&] { return syncobj_transfer(dev, dst, p++, src, 1, 0); });
        };
    };
    print("TRANSFERs from one pending point (max_pending_points_per_timeline; 2 entries each)",
          defaults.max_pending_points_per_timeline, run_one(per_conn, transfer(transfers)),
          run_one(unlimited(), transfer(transfers)), "transfers");

    // TRANSFERs of one pending point spread over 64 timelines, each under its own limit: the
    // connection's budget of pending points binds.
    auto spread = [](int64_t n) {
        return [n] {
            syncobj_device* dev = open_dev();
            int src, sig, dst[64];
            syncobj_create(dev, 0, &src);
            for (int& d : dst)
                syncobj_create(dev, 0, &d);
            syncobj_submit(dev, src, 1, &sig);
            int64_t i = 0;
            return repeat(n, [&] {
                int64_t k = i++;
                return syncobj_transfer(dev, dst[k % 64], 1 + static_cast<uint64_t>(k / 64), src, 1, 0);
            });
        };
    };
    ServiceLimits spread_base = unlimited();
    spread_base.max_pending_points_per_timeline = defaults.max_pending_points_per_timeline;
    print("TRANSFERs spread over 64 timelines (max_pending_points_per_connection; 1 point each)",
          defaults.max_pending_points_per_connection,
          run_one(per_conn, spread(cap(defaults.max_pending_points_per_connection))),
          run_one(spread_base, spread(cap(defaults.max_pending_points_per_connection))), "transfers");

    // Handles: the same timeline imported again and again on the raw wire (the library would
    // reuse its handle). Memory only.
    auto handles = [](int64_t n) {
        return [n] {
            syncobj_device* dev = open_dev();
            int tl;
            syncobj_create(dev, 0, &tl);
            int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::strncpy(addr.sun_path, getenv("SYNCWAY_SYNCOBJ_SOCKET"), sizeof addr.sun_path - 1);
            if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
                _exit(1);
            return repeat(n, [&] {
                syncobj_wire_header import{SYNCOBJ_OP_IMPORT, 0};
                iovec iov{&import, sizeof import};
                msghdr msg{};
                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                syncway::syncobj::OneFdControl control;
                syncway::syncobj::attach_fd(msg, control, tl);
                if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
                    return -errno;
                syncobj_wire_reply r{};
                char buf[512];
                if (recv(s, buf, sizeof buf, 0) < static_cast<ssize_t>(sizeof r))
                    return -EPIPE;
                std::memcpy(&r, buf, sizeof r);
                return -r.error;
            });
        };
    };
    print("handles of one connection (max_handles_per_connection; one timeline imported over and over)",
          defaults.max_handles_per_connection, run_one(per_conn, handles(cap(defaults.max_handles_per_connection))),
          run_one(unlimited(), handles(cap(defaults.max_handles_per_connection))), "handles");

    // Connections of one process.
    auto connections = [](int64_t n) {
        return [n] {
            return repeat(n, [] {
                syncobj_device* dev = nullptr;
                if (syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev) != 0)
                    return -ENODEV;
                int tl;
                int r = syncobj_create(dev, 0, &tl); // a refused connection answers EPIPE
                return r;
            });
        };
    };
    print("connections of one client process, one timeline each (max_connections_per_client)", defaults.max_connections_per_client,
          run_one(per_conn, connections(cap(defaults.max_connections_per_client))),
          run_one(unlimited(), connections(defaults.max_connections)), "connections");

    printf("  service-wide fd budget (max_fds, embedded default): half the soft RLIMIT_NOFILE at start = %llu here;\n"
           "  worst case held by the service: max_fds + %llu of its own\n",
           static_cast<unsigned long long>(rl.rlim_cur / 2),
           static_cast<unsigned long long>(syncway::syncobj::kServiceOwnFds));
    return 0;
}
