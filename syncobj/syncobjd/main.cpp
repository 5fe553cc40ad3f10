// syncobjd: the userspace syncobj service, standalone.
#include "../service/service.hpp"

#include <syncobj/timeline_host.hpp>
#include <syncobj_service_wire.h>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>

using namespace syncway;
using namespace syncway::syncobj;

namespace {

// Fds syncobjd keeps outside its clients' budget: the service's own (kServiceOwnFds), the
// signalfd, stdio.
constexpr uint64_t kDaemonReserveFds = kServiceOwnFds + 8;

void usage(FILE* out, const ServiceLimits& d)
{
    fprintf(out,
            "Usage: syncobjd [OPTIONS]\n"
            "\n"
            "The syncway userspace syncobj service: timelines as file descriptors, with the\n"
            "kernel's drm_syncobj semantics, for machines without usable DRM syncobjs.\n"
            "\n"
            "Socket: a SOCK_SEQPACKET Unix socket, mode 0600; only processes of the same user\n"
            "(SO_PEERCRED) may connect. Chosen in this order:\n"
            "  --socket PATH\n"
            "  $%s\n"
            "  $XDG_RUNTIME_DIR/syncobjd.sock\n"
            "Under systemd socket activation (LISTEN_FDS=1, LISTEN_PID = this process) the\n"
            "inherited socket is used and no path is created.\n"
            "Clients (libsyncway-syncobj, syncobj.h) find the service through $%s, else the\n"
            "same default path; $%s=service forces them to use it.\n"
            "\n"
            "Options:\n"
            "  --socket PATH          listen on PATH (a stale socket file is replaced)\n"
            "  --verbose              log refused connections and protocol errors to stderr\n"
            "  --help                 show this text\n"
            "\n"
            "Limits (a request over one fails with the errno shown and a message naming the\n"
            "limit and its value; nothing of it is kept):\n"
            "  --max-connections N    client connections open at once (default %u); more\n"
            "                         are logged and closed\n"
            "  --max-connections-per-client N\n"
            "                         connections of one client process (SO_PEERCRED pid;\n"
            "                         default %u), so that no process takes every slot\n"
            "  --max-handles N        timelines and signalers one connection may refer to\n"
            "                         (default %u); ENOSPC\n"
            "  --max-waits N          pending waits, eventfds and exported/imported sync\n"
            "                         files of one connection (default %u); ENOSPC\n"
            "  --max-fds-per-connection N\n"
            "                         service fds held for what one connection made and is\n"
            "                         still alive: timelines, unsignaled signalers, pending\n"
            "                         waits (default %u); EMFILE\n"
            "  --max-pending-points N pending points (and fences joined to them) on one\n"
            "                         timeline (default %u); ENOSPC\n"
            "  --max-pending-points-per-connection N\n"
            "                         pending points one connection added, on any timelines,\n"
            "                         not resolved yet (default %u); ENOSPC\n"
            "  --max-fds N            every fd the service holds for its clients, connections\n"
            "                         included (default: the soft RLIMIT_NOFILE, once raised,\n"
            "                         less %u for the service itself); ENFILE\n"
            "\n"
            "Other limits: %u timelines per WAIT/SIGNAL/RESET/QUERY request, %u-byte requests,\n"
            "4 fds per request.\n"
            "Each live timeline, unsignaled signaler and pending wait or sync file costs the\n"
            "service one fd; the soft RLIMIT_NOFILE is raised to the hard limit at start.\n"
            "Eventfd waits end with the connection that registered them.\n"
            "SIGTERM or SIGINT stop the service and remove its socket.\n",
            kSocketEnv, kSocketEnv, kBackendEnv, d.max_connections, d.max_connections_per_client,
            d.max_handles_per_connection, d.max_waits_per_connection, d.max_fds_per_connection,
            d.max_pending_points_per_timeline, d.max_pending_points_per_connection,
            static_cast<unsigned>(kDaemonReserveFds),
            SYNCOBJ_WIRE_MAX_COUNT, SYNCOBJ_WIRE_MAX_MESSAGE);
}

bool parse_u32(const char* s, uint32_t& out)
{
    char* end = nullptr;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || *end || v == 0 || v > UINT32_MAX)
        return false;
    out = static_cast<uint32_t>(v);
    return true;
}

// systemd's LISTEN_FDS protocol: fds from 3, for this pid only.
int socket_from_systemd()
{
    const char* pid = getenv("LISTEN_PID");
    const char* fds = getenv("LISTEN_FDS");
    if (!pid || !fds || std::to_string(getpid()) != pid)
        return -1;
    if (atoi(fds) != 1)
        return -2;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return 3;
}

} // namespace

int main(int argc, char** argv)
{
    ServiceLimits limits;
    std::string path;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "syncobjd: %s needs a value\n", name);
                exit(2);
            }
            return argv[++i];
        };
        auto number = [&](const char* name, uint32_t& out) {
            const char* v = value(name);
            if (!parse_u32(v, out)) {
                fprintf(stderr, "syncobjd: %s \"%s\" is not a number between 1 and %u\n", name, v, UINT32_MAX);
                exit(2);
            }
        };
        if (a == "--help" || a == "-h") {
            usage(stdout, ServiceLimits{});
            return 0;
        } else if (a == "--socket")
            path = value("--socket");
        else if (a == "--max-connections")
            number("--max-connections", limits.max_connections);
        else if (a == "--max-handles")
            number("--max-handles", limits.max_handles_per_connection);
        else if (a == "--max-waits")
            number("--max-waits", limits.max_waits_per_connection);
        else if (a == "--max-connections-per-client")
            number("--max-connections-per-client", limits.max_connections_per_client);
        else if (a == "--max-fds-per-connection")
            number("--max-fds-per-connection", limits.max_fds_per_connection);
        else if (a == "--max-pending-points")
            number("--max-pending-points", limits.max_pending_points_per_timeline);
        else if (a == "--max-pending-points-per-connection")
            number("--max-pending-points-per-connection", limits.max_pending_points_per_connection);
        else if (a == "--max-fds")
            number("--max-fds", limits.max_fds);
        else if (a == "--verbose")
            verbose = true;
        else {
            fprintf(stderr, "syncobjd: unknown option \"%s\" (see --help)\n", a.c_str());
            return 2;
        }
    }

    // Blocked before the socket exists: a SIGTERM that arrives as soon as clients can connect
    // still goes through the clean shutdown (socket removed).
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd sfd(signalfd(-1, &mask, SFD_CLOEXEC));
    signal(SIGPIPE, SIG_IGN);

    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    // The whole process serves clients: all of its fds but a reserve are their budget (the
    // service alone would take half, leaving room for a process that embeds it).
    if (limits.max_fds == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        uint64_t soft = rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : rl.rlim_cur;
        limits.max_fds = static_cast<uint32_t>(std::min<uint64_t>(
            soft > 2 * kDaemonReserveFds ? soft - kDaemonReserveFds : soft / 2, UINT32_MAX));
    }
    if (verbose)
        fprintf(stderr, "syncobjd: fd budget for clients: %u (RLIMIT_NOFILE %llu)\n", limits.max_fds,
                static_cast<unsigned long long>(rl.rlim_cur));

    Service::Options opt;
    opt.limits = limits;
    if (verbose)
        opt.log = [](const std::string& line) { fprintf(stderr, "syncobjd: %s\n", line.c_str()); };

    Result<std::unique_ptr<Service>> service = make_error(0);
    int inherited = socket_from_systemd();
    if (inherited == -2) {
        fprintf(stderr, "syncobjd: LISTEN_FDS must hand over exactly one socket\n");
        return 1;
    }
    if (inherited >= 0 && path.empty()) {
        service = Service::adopt(UniqueFd(inherited), std::move(opt));
    } else {
        if (path.empty())
            if (const char* env = getenv(kSocketEnv); env && *env)
                path = env;
        if (path.empty()) {
            const char* dir = getenv("XDG_RUNTIME_DIR");
            if (!dir || !*dir) {
                fprintf(stderr, "syncobjd: XDG_RUNTIME_DIR is not set; give --socket PATH\n");
                return 1;
            }
            path = std::string(dir) + "/syncobjd.sock";
        }
        service = Service::listen_at(path, std::move(opt));
    }
    if (!service) {
        fprintf(stderr, "syncobjd: %s\n", service.error().message.c_str());
        return 1;
    }

    if (verbose)
        fprintf(stderr, "syncobjd: listening on %s\n", (*service)->path().c_str());

    for (;;) {
        pollfd fds[2] = {{(*service)->fd(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "syncobjd: poll failed: %s\n", strerror(errno));
            return 1;
        }
        if (fds[1].revents)
            break;
        if (fds[0].revents)
            (*service)->dispatch(0);
    }
    return 0;
}
