// syncway: parse the command line, build the Server, listen, optionally run a COMMAND, and
// turn signals and the COMMAND's exit into a clean shutdown.
#include "child_process.hpp"
#include "explicit_sync/timeline_host_setup.hpp"
#include "fd_limit.hpp"
#include "vulkan_layer_env.hpp"
#include "options.hpp"
#include "record/recorder.hpp"
#include "runtime_dir.hpp"
#include "server.hpp"
#include "wlr.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace {

using namespace syncway;

// What the event loop's signal handlers share with main: no globals.
struct Session {
    Server* server = nullptr;
    ChildProcess* child = nullptr;
    int signal = 0;  // SIGINT/SIGTERM received
    const char* limit = nullptr;  // "frames" or "timeout" when --frames/--timeout ended the run
};

// Distinct from 0 (--frames reached) and from what a shell reports for its own failures; the
// value timeout(1) uses.
constexpr int kTimeoutStatus = 124;

int on_timeout(void* data)
{
    auto* session = static_cast<Session*>(data);
    wlr_log(WLR_INFO, "--timeout reached, shutting down");
    session->limit = "timeout";
    session->server->terminate();
    return 0;
}

int on_terminate_signal(int signal, void* data)
{
    auto* session = static_cast<Session*>(data);
    wlr_log(WLR_INFO, "received %s, shutting down", strsignal(signal));
    session->signal = signal;
    session->server->terminate();
    return 0;
}

int on_child_signal(int, void* data)
{
    auto* session = static_cast<Session*>(data);
    if (session->child && session->child->poll()) {
        wlr_log(WLR_INFO, "command exited with status %d, shutting down", session->child->exit_code());
        session->server->terminate();
    }
    return 0;
}

int run(int argc, char** argv)
{
    std::vector<std::string_view> args(argv + 1, argv + argc);
    auto parsed = parse_options(args);
    if (!parsed) {
        std::fprintf(stderr, "syncway: %s\n", parsed.error().message.c_str());
        return 2;
    }
    Options& options = parsed.value();
    if (options.help) {
        std::fputs(usage_text("syncway").c_str(), stdout);
        return 0;
    }
    if (options.version) {
        std::printf("syncway %s (wlroots %s)\n", SYNCWAY_VERSION, WLR_VERSION_STR);
        return 0;
    }

    // Blocked in every thread from the start (renderer threads inherit the mask), so these
    // signals only ever arrive through the event loop's signalfd.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    wlr_log_init(options.verbose ? WLR_DEBUG : WLR_INFO, nullptr);
    for (const std::string& note : apply_environment(options, read_environment()))
        wlr_log(WLR_INFO, "%s", note.c_str());

    // Clients' timelines, waits and dma-bufs are fds of ours: take all the kernel allows.
    if (auto limit = raise_fd_limit(); !limit)
        wlr_log(WLR_ERROR, "%s", limit.error().message.c_str());
    else if (limit->soft != limit->soft_before)
        wlr_log(WLR_INFO, "RLIMIT_NOFILE: soft limit raised from %llu to the hard limit %llu",
                static_cast<unsigned long long>(limit->soft_before), static_cast<unsigned long long>(limit->soft));
    else
        wlr_log(WLR_INFO, "RLIMIT_NOFILE: soft limit already at the hard limit %llu",
                static_cast<unsigned long long>(limit->soft));

    auto runtime_dir = RuntimeDir::ensure(options.env, options.socket.empty() ? "wayland-32" : options.socket);
    if (!runtime_dir) {
        std::fprintf(stderr, "syncway: %s\n", runtime_dir.error().message.c_str());
        return 1;
    }
    // libwayland finds sockets through these: a private directory must be exported, and a
    // parent compositor's relative socket name made absolute.
    if (runtime_dir->owned()) {
        ::setenv("XDG_RUNTIME_DIR", runtime_dir->path().c_str(), 1);
        options.env.xdg_runtime_dir = runtime_dir->path();
        if (!runtime_dir->parent_display().empty()) {
            ::setenv("WAYLAND_DISPLAY", runtime_dir->parent_display().c_str(), 1);
            options.env.wayland_display = runtime_dir->parent_display();
        }
    }

    auto created = Server::create(options, runtime_dir->path());
    if (!created) {
        std::fprintf(stderr, "syncway: %s\n", created.error().message.c_str());
        return 1;
    }
    std::unique_ptr<Server> server = std::move(created.value());
    auto socket = server->add_socket(options.socket);
    if (!socket) {
        std::fprintf(stderr, "syncway: %s\n", socket.error().message.c_str());
        return 1;
    }
    std::fprintf(stderr, "syncway: listening on WAYLAND_DISPLAY=%s (XDG_RUNTIME_DIR=%s), %s backend\n",
                 socket.value().c_str(), runtime_dir.value().path().c_str(),
                 std::string(backend_name(server->backend.kind)).c_str());

    Session session{server.get()};
    ChildProcess child;
    {
        wl_event_loop* loop = server->event_loop();
        EventSourcePtr sigint(wl_event_loop_add_signal(loop, SIGINT, on_terminate_signal, &session));
        EventSourcePtr sigterm(wl_event_loop_add_signal(loop, SIGTERM, on_terminate_signal, &session));
        EventSourcePtr sigchld(wl_event_loop_add_signal(loop, SIGCHLD, on_child_signal, &session));
        EventSourcePtr timeout;
        if (options.timeout_ms > 0) {
            timeout.reset(wl_event_loop_add_timer(loop, on_timeout, &session));
            wl_event_source_timer_update(timeout.get(), int(std::min<int64_t>(options.timeout_ms, INT32_MAX)));
        }
        if (server->recorder)
            server->recorder->on_frames_reached([&session] {
                wlr_log(WLR_INFO, "--frames reached, shutting down");
                session.limit = "frames";
                session.server->terminate();
            });

        if (!options.command.empty()) {
            ChildEnvironment env;
            env.wayland_display = socket.value();
            // Kernel-only modes refuse service timelines: the child must not be told of one.
            if (server->timelines && accepts_service_timelines(server->syncobj_mode))
                env.syncobj_socket = server->timelines->socket_path();
            env.extra = vulkan_layer_env(options.vulkan_layer, options.env.xdg_data_dirs);
            auto spawned = ChildProcess::spawn(options.command, env);
            if (!spawned) {
                std::fprintf(stderr, "syncway: %s\n", spawned.error().message.c_str());
                return 127;  // what a shell reports for a command it cannot run
            }
            child = std::move(spawned.value());
            session.child = &child;
        }
        server->run();
        if (!session.signal && !session.limit && !(session.child && session.child->exited()))
            wlr_log(WLR_INFO, "the %s backend ended the session (parent display gone or last output closed), "
                              "shutting down", std::string(backend_name(server->backend.kind)).c_str());
    }

    int status = 0;
    const char* reason = session.limit ? session.limit : session.signal ? "signal" : "backend";
    if (!options.command.empty()) {
        if (!session.limit && child.exited())
            reason = "command";
        // Shut down by a signal while the command still runs: it is ended, and its status
        // (usually 143) is ours.
        child.terminate();
        status = child.exit_code();
    }
    // A run that --frames or --timeout ended says so in its status, whatever COMMAND's was.
    if (session.limit)
        status = session.limit == std::string_view("timeout") ? kTimeoutStatus : 0;
    if (server->recorder && !server->recorder->finish(reason, status) && status == 0)
        status = 1;  // --screenshot asked for and not written (logged)
    server.reset();
    return status;
}

} // namespace

int main(int argc, char** argv) { return run(argc, argv); }
