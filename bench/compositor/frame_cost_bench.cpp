// B4 (docs/DESIGN.md §4): compositor CPU time per presented frame and peak RSS, headless 1920x1080,
// with 1 and 4 weston-simple-shm clients, for syncway beside sway 1.7 (wlroots headless, pixman)
// and weston 10 (headless backend, pixman), all measured in this run; plus the time from
// starting each compositor to the first frame presented to a client.
//
// Every compositor and client runs as an unprivileged user (sway refuses root): as root this
// uses (and creates if missing) the system user `syncway-bench`; otherwise the current user.
// Presented frames are counted by a small client of ours (FrameCounter) through frame
// callbacks, the one signal all three send on headless outputs.
//
//   build/bench/compositor/bench-compositor-frame-cost [--seconds S] [--rounds N] [--syncway PATH]
//                                                      [--peers-root DIR]   (--help says more)
#include "frame_counter.hpp"

#include <syncway/testing/process_cpu.hpp>

#include <syncway/cstring_array.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using syncway::CStringArray;

struct User {
    uid_t uid;
    gid_t gid;
    std::string name;
};

std::optional<User> bench_user()
{
    if (geteuid() != 0) {
        passwd* pw = getpwuid(getuid());
        return User{getuid(), getgid(), pw ? pw->pw_name : "self"};
    }
    const char* name = "syncway-bench";
    if (!getpwnam(name)) {
        std::fprintf(stderr, "b4: creating the unprivileged system user %s for the compositors\n", name);
        if (std::system("useradd --system --no-create-home --shell /usr/sbin/nologin syncway-bench") != 0)
            return std::nullopt;
    }
    passwd* pw = getpwnam(name);
    if (!pw)
        return std::nullopt;
    return User{pw->pw_uid, pw->pw_gid, name};
}

// A process started as `user`, with exactly `env`, output to `log`; killed on destruction.
class Child {
public:
    // root: a directory to chroot into first (peers from another Debian release), or "".
    Child(const User& user, const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          const std::string& log, const std::string& root = "")
    {
        std::vector<std::string> env_strings;
        for (auto& [k, v] : env)
            env_strings.push_back(k + "=" + v);
        CStringArray args(argv), envp(std::move(env_strings));  // built before fork: no malloc after
        pid_ = fork();
        if (pid_ == 0) {
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            setpgid(0, 0);
            if (!root.empty() && chroot(root.c_str()) != 0)
                _exit(125);
            if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(user.gid) != 0 || setuid(user.uid) != 0))
                _exit(126);
            if (chdir("/tmp") != 0)
                _exit(126);
            execvpe(argv[0].c_str(), args.data(), envp.data());
            _exit(127);
        }
    }
    ~Child() { stop(); }
    Child(const Child&) = delete;

    pid_t pid() const { return pid_; }
    bool alive() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
    void stop()
    {
        if (pid_ <= 0)
            return;
        kill(-pid_, SIGTERM);
        for (int i = 0; i < 300 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(10ms);
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

struct Peer {
    std::string name;
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string socket;  // empty: find wayland-N in the runtime dir
    std::string root;    // run chrooted there ("": this system)
};

// Which weston-simple-shm the clients are: weston 10's (this system's) draws 250x250 whatever
// it is asked, so every compositor shows equal windows; weston 14's (the trixie root's)
// follows the configured size, so each compositor's own layout decides (syncway: every window
// fills the output; sway: tiles; weston: its default size).
struct ClientKind {
    std::string name;
    std::string root;
    // sway: float the clients at 1920x1080 on the output's corner, stacked as syncway stacks
    // them, and float our counter window too, so it is mapped on top of them (a tiled window
    // would stay under floating ones and, covered, get no frame callbacks in sway 1.10).
    bool sway_full_output = false;
};

struct Measurement {
    bool ok = false;
    std::string error;
    double first_frame_ms = 0;
    double fps = 0;
    double cpu_ms_per_frame = 0;
    double peak_rss_mib = 0;
    // At the end of the window, resident memory by owner: anonymous (the compositor's heap),
    // shared memory of its own (wlroots' shm swapchain buffers, files named wlroots-*) and
    // shared memory of its clients that it maps (their wl_shm pools), from /proc/PID/smaps.
    double rss_anon_mib = 0;
    double rss_own_shm_mib = 0;
    double rss_client_shm_mib = 0;
};

// Adds up the Rss of /proc/PID/smaps' shared-memory mappings: wlroots' own (named wlroots-*)
// into *own, every other memfd or /dev/shm mapping into *clients.
void shared_memory_mib(pid_t pid, double* own, double* clients)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
    std::string line;
    double* into = nullptr;
    while (std::getline(in, line)) {
        bool header = !line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
                      line.find('-') != std::string::npos && line.find(':') > line.find(' ');
        if (header) {
            bool shm = line.find("/memfd:") != std::string::npos || line.find("/dev/shm/") != std::string::npos;
            into = !shm ? nullptr : line.find("wlroots") != std::string::npos ? own : clients;
        } else if (into && line.rfind("Rss:", 0) == 0) {
            *into += std::stod(line.substr(4)) / 1024.0;
        }
    }
}

// A "Key:   N kB" line of /proc/PID/status, in MiB (VmHWM: peak RSS; RssAnon: ...).
double status_mib(pid_t pid, const char* key)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0)
            return std::stod(line.substr(std::strlen(key))) / 1024.0;
    return 0;
}

std::string find_socket(const std::string& dir, const std::string& fixed)
{
    if (!fixed.empty())
        return access((dir + "/" + fixed).c_str(), F_OK) == 0 ? dir + "/" + fixed : "";
    for (auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string name = entry.path().filename();
        if (name.rfind("wayland-", 0) == 0 && name.find(".lock") == std::string::npos && entry.is_socket())
            return entry.path();
    }
    return "";
}

// clients == 0: no weston-simple-shm; the frame counter animates its own window instead.
Measurement measure(const Peer& peer, const User& user, int clients, const ClientKind& kind,
                    std::chrono::milliseconds window)
{
    Measurement m;
    char tmpl[] = "/tmp/syncway-b4-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    if (geteuid() == 0 && chown(dir.c_str(), user.uid, user.gid) != 0) {
        m.error = "chown runtime dir";
        return m;
    }
    std::string log = dir + ".log";
    auto env = peer.env;
    env["XDG_RUNTIME_DIR"] = dir;
    env["PATH"] = std::getenv("PATH") ?: "/usr/bin:/bin";
    env["HOME"] = dir;
    std::vector<std::string> argv = peer.argv;
    for (auto& a : argv)
        if (auto at = a.find("@DIR@"); at != std::string::npos)
            a.replace(at, 5, dir);
    if (peer.argv.front() == "sway") {
        std::ofstream conf(dir + "/sway.conf");
        conf << "output HEADLESS-1 resolution 1920x1080@60Hz\n";
        if (kind.sway_full_output)
            conf << "for_window [shell=\"xdg_shell\"] floating enable\n"
                    "for_window [app_id=\"org.freedesktop.weston.simple-shm\"] resize set 1920 1080, "
                    "move position 0 0\n";
        conf.close();
        if (geteuid() == 0 && chown((dir + "/sway.conf").c_str(), user.uid, user.gid) != 0) {
            m.error = "chown sway.conf";
            return m;
        }
    }

    auto t0 = Clock::now();
    Child compositor(user, argv, env, log, peer.root);
    syncway::bench::FrameCounter counter;
    std::string socket, error = "socket never appeared";
    bool mapped = false;
    while (Clock::now() - t0 < 20s && compositor.alive()) {
        socket = find_socket(dir, peer.socket);
        if (!socket.empty() && (mapped = counter.map_window(socket, 20s, &error)))
            break;
        if (!socket.empty())
            break;
        std::this_thread::sleep_for(1ms);
    }
    if (!mapped) {
        std::ifstream in(log);
        std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        m.error = error + (tail.size() > 400 ? " ..." + tail.substr(tail.size() - 400) : " " + tail);
        std::filesystem::remove_all(dir);
        std::filesystem::remove(log);
        return m;
    }
    m.first_frame_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

    std::map<std::string, std::string> client_env = {{"XDG_RUNTIME_DIR", dir},
                                                     {"WAYLAND_DISPLAY", std::filesystem::path(socket).filename()},
                                                     {"PATH", env["PATH"]},
                                                     {"HOME", dir}};
    std::vector<std::unique_ptr<Child>> shm_clients;
    for (int i = 0; i < clients; ++i)
        shm_clients.push_back(std::make_unique<Child>(user, std::vector<std::string>{"weston-simple-shm"}, client_env,
                                                      dir + ".clients.log", kind.root));
    counter.set_animate(clients == 0);
    counter.count_frames(1500ms);  // clients mapped and animating
    // With clients, frames are counted by a second counter window mapped after them, so it is
    // the newest window: on top in syncway's stack, where a window entirely covered by opaque
    // ones gets no frame callbacks (as in wlroots 0.18's scene), so the first counter, now
    // under the clients, would count nothing there.
    syncway::bench::FrameCounter top_counter;
    if (clients > 0 && !top_counter.map_window(socket, 20s, &error)) {
        m.error = "the counter mapped after the clients got no frame: " + error;
        return m;
    }
    syncway::bench::FrameCounter& measuring = clients > 0 ? top_counter : counter;
    double cpu0 = syncway::testing::process_cpu_seconds(compositor.pid()).value_or(0);
    auto w0 = Clock::now();
    uint64_t frames = measuring.count_frames(window);
    double seconds = std::chrono::duration<double>(Clock::now() - w0).count();
    double cpu = syncway::testing::process_cpu_seconds(compositor.pid()).value_or(0) - cpu0;
    m.peak_rss_mib = status_mib(compositor.pid(), "VmHWM:");
    m.rss_anon_mib = status_mib(compositor.pid(), "RssAnon:");
    shared_memory_mib(compositor.pid(), &m.rss_own_shm_mib, &m.rss_client_shm_mib);
    bool all_alive = true;
    for (auto& c : shm_clients)
        all_alive = all_alive && c->alive();
    shm_clients.clear();
    std::string client_tail;
    {
        std::ifstream in(dir + ".clients.log");
        std::string line;
        while (std::getline(in, line))
            if (!line.empty())
                client_tail = line;
    }
    compositor.stop();
    std::filesystem::remove_all(dir);
    std::filesystem::remove(log);
    std::filesystem::remove(dir + ".clients.log");
    if (frames == 0 || !all_alive) {
        m.error = frames == 0 ? "no frames during the window"
                              : "a weston-simple-shm client died (its last words: \"" + client_tail + "\")";
        return m;
    }
    m.ok = true;
    m.fps = frames / seconds;
    m.cpu_ms_per_frame = cpu * 1000.0 / frames;
    return m;
}

// Runs the peers from `root` in a mount namespace of our own, where the root sees this
// system's /proc, /sys, /dev and /tmp (runtime directories live in /tmp, so our frame counter
// and the compositors inside meet at the same sockets). Gone when the benchmark exits.
bool prepare_root(const std::string& root, std::string* error)
{
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        *error = std::string("a private mount namespace: ") + std::strerror(errno);
        return false;
    }
    for (const char* dir : {"/proc", "/sys", "/dev", "/tmp"}) {
        std::string target = root + dir;
        if (mount(dir, target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
            *error = "bind " + std::string(dir) + " into " + target + ": " + std::strerror(errno);
            return false;
        }
    }
    return true;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::string syncway = SYNCWAY_BIN;
    std::string peers_root;
    std::string syncway_before;
    double seconds = 5;
    int rounds = 1;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--seconds" && i + 1 < argc)
            seconds = std::atof(argv[++i]);
        else if (a == "--syncway" && i + 1 < argc)
            syncway = argv[++i];
        else if (a == "--syncway-before" && i + 1 < argc)
            syncway_before = argv[++i];
        else if (a == "--peers-root" && i + 1 < argc)
            peers_root = argv[++i];
        else if (a == "--rounds" && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else if (a == "--only" && i + 1 < argc)
            only = argv[++i];
        else if (a == "-h" || a == "--help") {
            std::printf("usage: %s [--seconds S] [--rounds N] [--syncway PATH] [--syncway-before PATH]\n"
                        "          [--peers-root DIR] [--only NAME]\n"
                        "  --syncway-before PATH  also measure another syncway binary (e.g. the build before\n"
                        "                    a change), as the row \"syncway before\"\n"
                        "  --peers-root DIR  also run sway 1.10 and weston 14 from a Debian trixie root\n"
                        "                    (bench/peers/trixie-root.sh makes one), and a second set of\n"
                        "                    rows with weston 14's weston-simple-shm, which follows the configured\n"
                        "                    size: full-output windows in syncway and sway (floated at\n"
                        "                    1920x1080, stacked), weston's default size in weston\n"
                        "  --rounds N        interleaved rounds; each row reports medians (default 1)\n"
                        "  --only NAMES      measure only the compositors whose name starts with one of\n"
                        "                    NAMES, comma-separated (e.g. syncway, sway, \"syncway,sway 1.10\")\n",
                        argv[0]);
            return 0;
        } else {
            std::fprintf(stderr, "b4: unknown argument '%s' (try --help)\n", a.c_str());
            return 2;
        }
    }
    if (seconds <= 0 || rounds <= 0) {
        std::fprintf(stderr, "b4: --seconds and --rounds must be positive\n");
        return 2;
    }
    auto user = bench_user();
    if (!user) {
        std::fprintf(stderr, "b4: no unprivileged user to run the compositors as (useradd failed)\n");
        return 1;
    }
    std::vector<Peer> peers = {
        {"syncway", {syncway, "--backend", "headless", "--renderer", "pixman", "--output", "1920x1080@60", "--socket", "b4"},
         {}, "b4", ""},
        {"sway 1.7", {"sway", "-c", "@DIR@/sway.conf"},
         {{"WLR_BACKENDS", "headless"}, {"WLR_RENDERER", "pixman"}, {"WLR_LIBINPUT_NO_DEVICES", "1"}}, "", ""},
        {"weston 10", {"weston", "--backend=headless-backend.so", "--use-pixman", "--width=1920", "--height=1080",
                       "--socket=b4", "--idle-time=0"},
         {}, "b4", ""},
    };
    std::vector<ClientKind> kinds = {{"weston 10's weston-simple-shm: equal 250x250 windows", ""}};
    if (!peers_root.empty()) {
        std::string error;
        if (geteuid() != 0 || !prepare_root(peers_root, &error)) {
            std::fprintf(stderr, "b4: --peers-root needs root and a usable root: %s\n",
                         geteuid() != 0 ? "not running as root" : error.c_str());
            return 1;
        }
        peers.push_back({"sway 1.10", {"sway", "-c", "@DIR@/sway.conf"},
                         {{"WLR_BACKENDS", "headless"}, {"WLR_RENDERER", "pixman"}, {"WLR_LIBINPUT_NO_DEVICES", "1"}},
                         "", peers_root});
        peers.push_back({"weston 14", {"weston", "--backend=headless", "--renderer=pixman", "--width=1920",
                                       "--height=1080", "--socket=b4", "--idle-time=0"},
                         {}, "b4", peers_root});
        kinds.push_back({"weston 14's weston-simple-shm: full-output windows, stacked (syncway; sway floats them at "
                         "1920x1080); weston gives its default size",
                         peers_root, true});
    }

    if (!syncway_before.empty())
        peers.insert(peers.begin() + 1, Peer{"syncway before", {syncway_before, "--backend", "headless", "--renderer",
                                                                "pixman", "--output", "1920x1080@60", "--socket", "b4"},
                                             {}, "b4", ""});
    if (!only.empty()) {
        // A comma-separated list of name prefixes.
        std::vector<std::string> prefixes;
        std::stringstream list(only);
        for (std::string prefix; std::getline(list, prefix, ',');)
            if (!prefix.empty())
                prefixes.push_back(prefix);
        std::erase_if(peers, [&](const Peer& p) {
            return std::none_of(prefixes.begin(), prefixes.end(),
                                [&](const std::string& prefix) { return p.name.rfind(prefix, 0) == 0; });
        });
    }
    if (peers.empty()) {
        std::fprintf(stderr, "b4: --only %s matches no compositor\n", only.c_str());
        return 2;
    }
    auto window = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    std::printf("B4: compositor CPU per presented frame, headless 1920x1080 pixman, weston-simple-shm clients\n");
    std::printf("(compositors and clients run as user '%s'; %.1f s window per row; %d interleaved round(s), "
                "medians;\n frames counted by a 64x64 window of ours through frame callbacks, mapped after the "
                "clients;\n with 0 clients that window animates itself)\n\n",
                user->name.c_str(), seconds, rounds);
    // Every (kind, clients, compositor) once per round, so slow drifts of the host's load fall
    // on all of them alike.
    using Key = std::tuple<size_t, int, std::string>;
    std::map<Key, std::vector<Measurement>> runs;
    for (int round = 0; round < rounds; ++round)
        for (size_t k = 0; k < kinds.size(); ++k)
            for (int clients : {0, 1, 4}) {
                if (k > 0 && clients == 0)
                    continue;  // no client: the same row for every kind
                for (auto& peer : peers) {
                    runs[{k, clients, peer.name}].push_back(measure(peer, *user, clients, kinds[k], window));
                    std::fprintf(stderr, "b4: round %d, %s, %d client(s), %s done\n", round + 1,
                                 kinds[k].name.substr(0, 9).c_str(), clients, peer.name.c_str());
                }
            }
    for (size_t k = 0; k < kinds.size(); ++k) {
        std::printf("%s\n\n", kinds[k].name.c_str());
        std::printf("| compositor | clients | first frame (ms) | frames/s | CPU ms/frame | peak RSS (MiB) | RSS: anon / own shm / clients' shm (MiB) |\n");
        std::printf("|------------|---------|------------------|----------|--------------|----------------|------------------------------------------|\n");
        std::map<std::pair<std::string, int>, double> cpu;
        for (int clients : {0, 1, 4}) {
            if (k > 0 && clients == 0)
                continue;
            for (auto& peer : peers) {
                auto& ms = runs[{k, clients, peer.name}];
                std::vector<double> first, fps, per_frame, peak, anon, own_shm, client_shm;
                std::string error;
                for (auto& m : ms) {
                    if (!m.ok) {
                        error = m.error;
                        continue;
                    }
                    first.push_back(m.first_frame_ms);
                    fps.push_back(m.fps);
                    per_frame.push_back(m.cpu_ms_per_frame);
                    peak.push_back(m.peak_rss_mib);
                    anon.push_back(m.rss_anon_mib);
                    own_shm.push_back(m.rss_own_shm_mib);
                    client_shm.push_back(m.rss_client_shm_mib);
                }
                if (per_frame.empty()) {
                    std::printf("| %-10s | %7d | failed: %s |\n", peer.name.c_str(), clients, error.c_str());
                    continue;
                }
                cpu[{peer.name, clients}] = median(per_frame);
                std::printf("| %-10s | %7d | %16.1f | %8.1f | %12.3f | %14.1f | %12.1f / %5.1f / %-14.1f |\n",
                            peer.name.c_str(), clients, median(first), median(fps), median(per_frame), median(peak),
                            median(anon), median(own_shm), median(client_shm));
            }
        }
        std::printf("\n");
        for (int clients : {0, 1, 4}) {
            auto ours = cpu.find({"syncway", clients});
            if (ours == cpu.end())
                continue;
            double best = 0;
            std::string best_name;
            for (auto& peer : peers)
                if (auto it = cpu.find({peer.name, clients}); peer.name.rfind("syncway", 0) != 0 && it != cpu.end() &&
                                                              (best == 0 || it->second < best)) {
                    best = it->second;
                    best_name = peer.name;
                }
            if (best > 0)
                std::printf("%d client(s): syncway %.3f ms/frame vs best peer (%s) %.3f ms/frame: ratio %.2f\n",
                            clients, ours->second, best_name.c_str(), best, ours->second / best);
        }
        if (auto before = cpu.find({"syncway before", 1}); before != cpu.end())
            for (int clients : {0, 1, 4})
                if (cpu.count({"syncway", clients}) && cpu.count({"syncway before", clients}))
                    std::printf("%d client(s): syncway %.3f ms/frame vs syncway before %.3f: ratio %.2f\n", clients,
                                cpu[{"syncway", clients}], cpu[{"syncway before", clients}],
                                cpu[{"syncway", clients}] / cpu[{"syncway before", clients}]);
        if (cpu.count({"syncway", 1}) && cpu.count({"syncway", 4}))
            std::printf("syncway, 4 clients vs 1: %.3f / %.3f ms/frame = %.2fx (goal: at most 1.2x)\n",
                        cpu[{"syncway", 4}], cpu[{"syncway", 1}], cpu[{"syncway", 4}] / cpu[{"syncway", 1}]);
        std::printf("\n");
    }
    return 0;
}
