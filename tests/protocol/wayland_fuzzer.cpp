#include "wayland_fuzzer.hpp"

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-drm-syncobj-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "viewporter-client-protocol.h"
#include "xdg-output-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncobj/syncobj.h>
#include <syncway/testing/dispatch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-client.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

namespace syncway::test {
namespace {

// The globals the fuzzer binds: every one syncway offers that we have a client-side
// description of (wlr-screencopy and the virtual input protocols have none here).
const wl_interface* const kGlobals[] = {
    &wl_compositor_interface,
    &wl_subcompositor_interface,
    &wl_shm_interface,
    &wl_seat_interface,
    &wl_output_interface,
    &wl_data_device_manager_interface,
    &xdg_wm_base_interface,
    &zxdg_output_manager_v1_interface,
    &wp_presentation_interface,
    &wp_viewporter_interface,
    &zwp_linux_dmabuf_v1_interface,
    &wp_linux_drm_syncobj_manager_v1_interface,
};

constexpr int kMaxArgs = 20;  // libwayland's limit of arguments per message

struct Object {
    wl_proxy* proxy;
    const wl_interface* interface;
};

struct Session {
    explicit Session(uint64_t seed) : rng(seed) {}
    std::mt19937_64 rng;
    wl_display* display = nullptr;
    std::vector<Object> objects;
    std::vector<int> pool_files;  // memfds handed to wl_shm pools: candidates for truncation
    syncobj_device* dev = nullptr;
    uint64_t requests = 0;

    uint64_t pick(uint64_t n) { return n ? rng() % n : 0; }
    bool chance(int percent) { return pick(100) < uint64_t(percent); }
};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t version)
{
    auto* session = static_cast<Session*>(data);
    for (const wl_interface* known : kGlobals) {
        if (std::strcmp(known->name, interface) != 0)
            continue;
        uint32_t v = std::min<uint32_t>(version, uint32_t(known->version));
        auto* proxy = static_cast<wl_proxy*>(wl_registry_bind(registry, name, known, v));
        session->objects.push_back({proxy, known});
    }
}

// An fd of a kind the compositor may be handed where it expects one.
int make_fd(Session& s)
{
    switch (s.pick(8)) {
    case 0:
    case 1:
    case 2: {  // a memfd of a plausible pool size, sometimes sealed against shrinking
        int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        static const off_t sizes[] = {0, 1, 4096, 65536, 64 * 64 * 4, 1 << 20};
        if (fd >= 0 && ftruncate(fd, sizes[s.pick(6)]) == 0 && s.chance(30))
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
        if (fd >= 0)
            s.pool_files.push_back(dup(fd));
        return fd;
    }
    case 3: {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            return -1;
        int keep = int(s.pick(2));  // the read end or the write end
        close(p[1 - keep]);
        return p[keep];
    }
    case 4:
        return eventfd(0, EFD_CLOEXEC);
    case 5: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return -1;
        close(sv[1]);
        return sv[0];
    }
    default: {  // a timeline of the compositor's own service
        int fd = -1;
        if (s.dev && syncobj_create(s.dev, 0, &fd) == 0) {
            if (s.chance(50)) {
                uint64_t point = s.pick(4);
                syncobj_signal(s.dev, &fd, &point, 1);
            }
            return fd;
        }
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    }
}

int32_t make_int(Session& s)
{
    static const int32_t edges[] = {0, 1, -1, 2, 4, 16, 32, 64, 256, 4096, 65535, INT_MAX, INT_MIN, INT_MAX / 4};
    return s.chance(70) ? edges[s.pick(std::size(edges))] : int32_t(s.rng());
}

const char* since_stripped(const char* signature, int* since)
{
    *since = 0;
    while (*signature >= '0' && *signature <= '9')
        *since = *since * 10 + (*signature++ - '0');
    return signature;
}

bool is_destructor(const wl_message& message)
{
    return std::strcmp(message.name, "destroy") == 0 || std::strcmp(message.name, "release") == 0;
}

// One random request on one random object. Arguments follow the signature; owned fds are
// closed after the call (libwayland duplicates them).
void send_random_request(Session& s)
{
    if (s.objects.empty())
        return;
    size_t index = s.pick(s.objects.size());
    Object target = s.objects[index];
    uint32_t version = wl_proxy_get_version(target.proxy);
    if (target.interface->method_count == 0)
        return;
    uint32_t opcode = uint32_t(s.pick(uint64_t(target.interface->method_count)));
    const wl_message& message = target.interface->methods[opcode];
    int since = 0;
    const char* signature = since_stripped(message.signature, &since);
    if (uint32_t(since) > version)
        return;

    wl_argument args[kMaxArgs]{};
    std::vector<int> fds;
    std::vector<std::string> strings;
    std::vector<wl_array> arrays;
    arrays.reserve(kMaxArgs);
    strings.reserve(kMaxArgs);
    const wl_interface* new_interface = nullptr;
    int arg = 0;
    bool nullable = false;
    for (const char* c = signature; *c && arg < kMaxArgs; ++c) {
        if (*c == '?') {
            nullable = true;
            continue;
        }
        const wl_interface* type = message.types[arg];
        switch (*c) {
        case 'i': args[arg].i = make_int(s); break;
        case 'u': args[arg].u = uint32_t(make_int(s)); break;
        case 'f': args[arg].f = wl_fixed_from_int(make_int(s) % 5000); break;
        case 's':
            if (nullable && s.chance(20)) {
                args[arg].s = nullptr;
            } else {
                std::string text(s.pick(40), 'x');
                for (char& ch : text)
                    ch = char(' ' + s.pick(95));
                strings.push_back(std::move(text));
                args[arg].s = strings.back().c_str();
            }
            break;
        case 'o': {
            wl_proxy* chosen = nullptr;
            if (!(nullable && s.chance(20))) {
                std::vector<wl_proxy*> matching;
                for (const Object& o : s.objects)
                    if (!type || std::strcmp(o.interface->name, type->name) == 0)
                        matching.push_back(o.proxy);
                if (!matching.empty() && s.chance(90))
                    chosen = matching[s.pick(matching.size())];
                else
                    chosen = s.objects[s.pick(s.objects.size())].proxy;  // maybe the wrong kind
            }
            if (!chosen && !nullable)
                return;  // libwayland refuses a null object where none is allowed
            args[arg].o = reinterpret_cast<wl_object*>(chosen);
            break;
        }
        case 'n':
            if (!type)
                return;  // untyped new_id (wl_registry.bind): not fuzzed here
            new_interface = type;
            args[arg].n = 0;
            break;
        case 'a': {
            wl_array array;
            wl_array_init(&array);
            size_t bytes = s.pick(5) * 4;
            if (void* data = wl_array_add(&array, bytes))
                for (size_t i = 0; i < bytes; ++i)
                    static_cast<char*>(data)[i] = char(s.rng());
            arrays.push_back(array);
            args[arg].a = &arrays.back();
            break;
        }
        case 'h': {
            int fd = make_fd(s);
            if (fd < 0)
                fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            fds.push_back(fd);
            args[arg].h = fd;
            break;
        }
        default: break;
        }
        nullable = false;
        ++arg;
    }
    bool destroys = is_destructor(message);
    wl_proxy* created = wl_proxy_marshal_array_flags(target.proxy, opcode, new_interface, version,
                                                     destroys ? WL_MARSHAL_FLAG_DESTROY : 0, args);
    if (wl_display_get_error(s.display) == 0)
        ++s.requests;  // not those libwayland drops once the connection failed
    if (destroys)
        s.objects.erase(s.objects.begin() + std::ptrdiff_t(index));
    if (created)
        s.objects.push_back({created, new_interface});
    for (int fd : fds)
        close(fd);
    for (wl_array& array : arrays)
        wl_array_release(&array);
}

void find(Session& s, const wl_interface* interface, wl_proxy** out)
{
    for (const Object& o : s.objects)
        if (o.interface == interface)
            *out = o.proxy;
}

// Objects that take many requests to reach at random: a toplevel with a wl_shm buffer on it,
// an imported timeline and a sync surface, linux-dmabuf params with a plane.
void build_scene(Session& s)
{
    wl_proxy *compositor = nullptr, *wm_base = nullptr, *shm = nullptr, *syncobj = nullptr, *dmabuf = nullptr;
    find(s, &wl_compositor_interface, &compositor);
    find(s, &xdg_wm_base_interface, &wm_base);
    find(s, &wl_shm_interface, &shm);
    find(s, &wp_linux_drm_syncobj_manager_v1_interface, &syncobj);
    find(s, &zwp_linux_dmabuf_v1_interface, &dmabuf);
    if (!compositor || !wm_base || !shm)
        return;
    auto* surface = wl_compositor_create_surface(reinterpret_cast<wl_compositor*>(compositor));
    s.objects.push_back({reinterpret_cast<wl_proxy*>(surface), &wl_surface_interface});
    auto* xdg = xdg_wm_base_get_xdg_surface(reinterpret_cast<xdg_wm_base*>(wm_base), surface);
    s.objects.push_back({reinterpret_cast<wl_proxy*>(xdg), &xdg_surface_interface});
    auto* toplevel = xdg_surface_get_toplevel(xdg);
    s.objects.push_back({reinterpret_cast<wl_proxy*>(toplevel), &xdg_toplevel_interface});
    wl_surface_commit(surface);

    int fd = memfd_create("fuzz-scene", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, 64 * 64 * 4) == 0) {
        auto* pool = wl_shm_create_pool(reinterpret_cast<wl_shm*>(shm), fd, 64 * 64 * 4);
        s.objects.push_back({reinterpret_cast<wl_proxy*>(pool), &wl_shm_pool_interface});
        auto* buffer = wl_shm_pool_create_buffer(pool, 0, 64, 64, 256, WL_SHM_FORMAT_XRGB8888);
        s.objects.push_back({reinterpret_cast<wl_proxy*>(buffer), &wl_buffer_interface});
        s.pool_files.push_back(fd);
        wl_surface_attach(surface, buffer, 0, 0);
    }
    if (syncobj) {
        auto* sync = wp_linux_drm_syncobj_manager_v1_get_surface(
            reinterpret_cast<wp_linux_drm_syncobj_manager_v1*>(syncobj), surface);
        s.objects.push_back({reinterpret_cast<wl_proxy*>(sync), &wp_linux_drm_syncobj_surface_v1_interface});
        int timeline = -1;
        if (s.dev && syncobj_create(s.dev, 0, &timeline) == 0) {
            auto* imported = wp_linux_drm_syncobj_manager_v1_import_timeline(
                reinterpret_cast<wp_linux_drm_syncobj_manager_v1*>(syncobj), timeline);
            s.objects.push_back({reinterpret_cast<wl_proxy*>(imported), &wp_linux_drm_syncobj_timeline_v1_interface});
            close(timeline);
        }
    }
    if (dmabuf) {
        auto* params = zwp_linux_dmabuf_v1_create_params(reinterpret_cast<zwp_linux_dmabuf_v1*>(dmabuf));
        s.objects.push_back({reinterpret_cast<wl_proxy*>(params), &zwp_linux_buffer_params_v1_interface});
    }
}

// Sends what is queued and handles what has arrived, without waiting for more.
void read_without_waiting(wl_display* display)
{
    wl_display_flush(display);
    if (wl_display_prepare_read(display) == 0) {
        pollfd p{wl_display_get_fd(display), POLLIN, 0};
        if (poll(&p, 1, 0) == 1)
            wl_display_read_events(display);
        else
            wl_display_cancel_read(display);
    }
    wl_display_dispatch_pending(display);
}

enum SessionEnd : char { kEndAlive = 'a', kEndDisconnected = 'd', kEndUnanswered = 'u', kEndFailed = 'f' };

struct SessionReport {
    char end = kEndFailed;
    uint64_t requests = 0;
};

[[noreturn]] void run_session(const FuzzTarget& target, uint64_t seed, int report_fd)
{
    Session s(seed);
    SessionReport report;
    if (!target.service_socket.empty()) {
        setenv("SYNCWAY_SYNCOBJ_SOCKET", target.service_socket.c_str(), 1);
        if (syncobj_open(SYNCOBJ_BACKEND_SERVICE, &s.dev) != 0)
            s.dev = nullptr;
    }
    s.display = wl_display_connect(target.display_path.c_str());
    if (s.display) {
        static const wl_registry_listener listener = {.global = on_global,
                                                      .global_remove = [](void*, wl_registry*, uint32_t) {}};
        wl_registry_add_listener(wl_display_get_registry(s.display), &listener, &s);
        if (wl_display_roundtrip(s.display) >= 0) {
            build_scene(s);
            uint64_t count = 50 + s.pick(400);
            for (uint64_t i = 0; i < count && wl_display_get_error(s.display) == 0; ++i) {
                send_random_request(s);
                if (!s.pool_files.empty() && s.chance(1))  // the client shrinks a pool's file
                    (void)!ftruncate(s.pool_files[s.pick(s.pool_files.size())], 0);
                if (i % 8 == 7)
                    read_without_waiting(s.display);  // notices a protocol error soon
            }
            // Whatever the requests did, the compositor answers a roundtrip or ends the
            // connection with an error, promptly.
            auto* callback = wl_display_sync(s.display);
            bool done = false;
            static const wl_callback_listener sync_listener = {
                .done = [](void* data, wl_callback*, uint32_t) { *static_cast<bool*>(data) = true; }};
            wl_callback_add_listener(callback, &sync_listener, &done);
            auto result = testing::dispatch_until(s.display, [&] { return done; }, std::chrono::seconds(10));
            report.end = result == testing::DispatchResult::done ? kEndAlive
                         : result == testing::DispatchResult::lost ? kEndDisconnected
                                                                    : kEndUnanswered;
        }
    }
    report.requests = s.requests;
    (void)!write(report_fd, &report, sizeof report);
    _exit(0);  // no cleanup: the compositor sees a client that just goes away
}

} // namespace

FuzzStats fuzz_compositor(const FuzzTarget& target, uint64_t seed, std::chrono::steady_clock::time_point deadline)
{
    FuzzStats stats;
    for (uint64_t i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        int report[2];
        if (pipe2(report, O_CLOEXEC) != 0)
            break;
        pid_t pid = fork();
        if (pid == 0) {
            close(report[0]);
            run_session(target, seed + i, report[1]);
        }
        close(report[1]);
        SessionReport result;
        pollfd p{report[0], POLLIN, 0};
        bool reported = pid > 0 && poll(&p, 1, 30000) == 1 && read(report[0], &result, sizeof result) == sizeof result;
        close(report[0]);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        ++stats.sessions;
        if (!reported) {
            ++stats.failed;
            continue;
        }
        stats.requests += result.requests;
        stats.disconnected += result.end == kEndDisconnected;
        stats.unanswered += result.end == kEndUnanswered;
        stats.failed += result.end == kEndFailed;
    }
    return stats;
}

} // namespace syncway::test
