// The Vulkan layer inside a real syncway (headless), with real Vulkan applications started as
// syncway's COMMAND, as a user would: syncway hands them the layer and the timeline service.
#include "compositor_fixture.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

// VkResult values (the test does not include the Vulkan headers).
constexpr int VK_ERROR_SURFACE_LOST_KHR_VALUE = -1000000000;
constexpr int VK_ERROR_OUT_OF_DATE_KHR_VALUE = -1000001004;

using namespace syncway::test;

namespace {

const char* env_or(const char* name, const char* fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

bool have(const std::string& program)
{
    return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// A command line for a program of Debian's: in the sanitized build the layer inside it needs
// the sanitizer runtime preloaded (the program itself is not instrumented).
std::vector<std::string> client(std::vector<std::string> argv)
{
    const char* preload = std::getenv("WSI_CLIENT_PRELOAD");
    if (preload && *preload)
        argv.insert(argv.begin(), {"env", std::string("LD_PRELOAD=") + preload});
    return argv;
}

// Our client is built like the layer (with the sanitizers' runtime in the sanitized build).
std::vector<std::string> test_client(std::vector<std::string> args)
{
    args.insert(args.begin(), env_or("WSI_TEST_CLIENT", "wsi-test-client"));
    return args;
}

// Sets an environment variable for this test (syncway and its COMMAND inherit it).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
    ~ScopedEnv() { ::unsetenv(name_); }

private:
    const char* name_;
};

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// syncway running COMMAND while it records its commits (--record DIR --record-trace-only; read
// back with trace()), and the layer logging why it acts (VK_LOADER_DEBUG=info).
struct RecordedRun {
    TempDir dir;
    ScopedEnv debug{"VK_LOADER_DEBUG", "info"};
    Compositor c;

    RecordedRun(std::vector<std::string> options, std::vector<std::string> command)
        : c(with_recording(std::move(options), dir), std::move(command))
    {
    }
    std::string trace() const { return read_file(dir.path() + "/rec/trace.jsonl"); }

private:
    static std::vector<std::string> with_recording(std::vector<std::string> options, const TempDir& dir)
    {
        options.insert(options.end(), {"--record", dir.path() + "/rec", "--record-trace-only"});
        return options;
    }
};

// Commits of syncway's recording (--record DIR --record-trace-only, DIR/trace.jsonl) that were
// held for their acquire point: explicit sync that really waited.
size_t held_commits(const std::string& trace)
{
    size_t n = 0;
    for (size_t at = 0; (at = trace.find("\"acquire_signaled_at_commit\":false", at)) != std::string::npos; at++)
        n++;
    return n;
}

// Commits that carried an acquire point at all.
size_t commits_with_acquire_points(const std::string& trace)
{
    size_t n = 0;
    for (size_t at = 0; (at = trace.find("\"acquire\":{", at)) != std::string::npos; at++)
        n++;
    return n;
}

// vkcube's LunarG logo: teal, clearly bluer and greener than red, unlike the grey cube and
// the dark background.
bool teal(Rgb c)
{
    return c.b > c.r + 40 && c.g > c.r + 30;
}

const std::string kActs = "explicit sync on service timelines";

bool contains(const std::string& text, const std::string& what)
{
    return text.find(what) != std::string::npos;
}

// One commit of syncway's recording that carried a buffer or timeline points.
struct TraceCommit {
    long client = 0, surface = 0;
    std::string buffer_kind; // "shm", "dmabuf", ...; empty when the commit attached none
    long acquire_timeline = -1, release_timeline = -1;
    bool held = false;       // waited for its acquire point
};

std::vector<TraceCommit> trace_commits(const std::string& trace)
{
    std::vector<TraceCommit> out;
    std::istringstream lines(trace);
    std::string line;
    const std::regex client("\"client\":([0-9]+)"), surface("\"surface\":([0-9]+)"),
        kind("\"buffer\":\\{\"kind\":\"([a-z]+)\""), acquire("\"acquire\":\\{\"timeline\":([0-9]+)"),
        release("\"release\":\\{\"timeline\":([0-9]+)");
    while (std::getline(lines, line)) {
        if (!contains(line, "\"type\":\"commit\""))
            continue;
        TraceCommit c;
        std::smatch m;
        if (std::regex_search(line, m, client))
            c.client = std::stol(m[1].str());
        if (std::regex_search(line, m, surface))
            c.surface = std::stol(m[1].str());
        if (std::regex_search(line, m, kind))
            c.buffer_kind = m[1].str();
        if (std::regex_search(line, m, acquire))
            c.acquire_timeline = std::stol(m[1].str());
        if (std::regex_search(line, m, release))
            c.release_timeline = std::stol(m[1].str());
        c.held = contains(line, "\"acquire_signaled_at_commit\":false");
        out.push_back(c);
    }
    return out;
}

// Whether heaps/ has a dma-buf source here that this user may use: a dma-buf heap or udmabuf
// (what the layer's choice rests on; decided here from the device nodes alone).
bool dma_buf_source_exists()
{
    if (::access("/dev/udmabuf", R_OK | W_OK) == 0)
        return true;
    DIR* dir = ::opendir("/dev/dma_heap");
    if (!dir)
        return false;
    bool found = false;
    while (dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.' && ::access(("/dev/dma_heap/" + std::string(entry->d_name)).c_str(), R_OK | W_OK) == 0)
            found = true;
    ::closedir(dir);
    return found;
}

// The exporters ("system", "udmabuf", ...) of the dma-bufs process `pid` holds open, one entry
// per fd (/proc/PID/fdinfo names a dma-buf's exporter in its exp_name line), leaving out
// syncway's own framebuffers (`--buffer-heap`: dma-bufs it names syncway-framebuffer), which
// come from the same heap or udmabuf where one exists.
std::vector<std::string> dma_bufs_held_by(pid_t pid)
{
    std::vector<std::string> out;
    const std::string fds = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* dir = ::opendir(fds.c_str());
    if (!dir)
        return out;
    while (dirent* entry = ::readdir(dir)) {
        std::istringstream info(read_file(fds + "/" + entry->d_name));
        std::string exporter, name;
        for (std::string line; std::getline(info, line);) {
            if (line.rfind("exp_name:", 0) == 0)
                exporter = line.substr(line.find_first_not_of(" \t", 9));
            else if (line.rfind("name:", 0) == 0 && line.size() > 5)
                name = line.substr(std::min(line.size(), line.find_first_not_of(" \t", 5)));
        }
        if (!exporter.empty() && name.rfind("syncway-framebuffer", 0) != 0)
            out.push_back(exporter);
    }
    ::closedir(dir);
    return out;
}

// The line of `output` that holds `what`, from there to its end.
std::string line_with(const std::string& output, const std::string& what)
{
    size_t at = output.find(what);
    return at == std::string::npos ? std::string() : output.substr(at, output.find('\n', at) - at);
}

} // namespace

// vkcube renders through the layer: the cube is on screen, and syncway's trace shows commits
// that waited for their acquire point (explicit sync, not a silent fallback).
TEST(Vkcube, ShowsTheCubeWithAcquirePoints)
{
    if (!have("vkcube-wayland"))
        GTEST_SKIP() << "vkcube-wayland (vulkan-tools) is not installed";
    RecordedRun run({"--output", "800x600@60"}, client({"vkcube-wayland", "--c", "100000"}));
    Compositor& c = run.c;
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    auto shot = c.wait_for_screenshot([](const Image& i) { return i.count({0, 0, i.width(), i.height()}, teal) > 2000; });
    ASSERT_TRUE(shot) << c.process().output();
    EXPECT_GT(shot->count({0, 0, shot->width(), shot->height()}, teal), 2000u) << "no cube on screen";
    // FIFO commits after the previous frame's callback, by when vkcube's light frame is
    // often done: only some commits are held. One shows that explicit sync happened.
    ASSERT_TRUE(wait_until([&] { return held_commits(run.trace()) >= 1; }, 30s))
        << "syncway's recording shows no commit held for its acquire point:\n"
        << run.trace().substr(0, 4000) << c.process().output();
    EXPECT_TRUE(contains(c.process().output(), kActs)) << c.process().output();
    EXPECT_TRUE(c.process().running()) << c.process().output();
}

// MAILBOX commits at once, before vkcube's frame is rendered: nearly every commit is held.
TEST(Vkcube, MailboxCommitsAreHeldForTheirAcquirePoints)
{
    if (!have("vkcube-wayland"))
        GTEST_SKIP() << "vkcube-wayland (vulkan-tools) is not installed";
    RecordedRun run({"--output", "640x480@60"}, client({"vkcube-wayland", "--c", "200", "--present_mode", "1"}));
    Compositor& c = run.c;
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(c.process().wait(120s)) << c.process().output();
    EXPECT_EQ(c.process().exit_code(), 0) << c.process().output();
    EXPECT_TRUE(contains(c.process().output(), "present mode 1: " + kActs)) << c.process().output();
    EXPECT_GE(held_commits(run.trace()), 50u) << run.trace().substr(0, 4000);
}

// The same under Khronos' validation layer: it loads, and says nothing about the layer's calls
// (nor vkcube's).
TEST(Vkcube, ValidationLayerFindsNothing)
{
    if (!have("vkcube-wayland"))
        GTEST_SKIP() << "vkcube-wayland (vulkan-tools) is not installed";
    if (std::system("test -f /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json") != 0)
        GTEST_SKIP() << "vulkan-validationlayers is not installed";
    ScopedEnv debug("VK_LOADER_DEBUG", "info");
    ScopedEnv layers("VK_INSTANCE_LAYERS", "VK_LAYER_KHRONOS_validation");
    Compositor c({"--output", "640x480@60"}, client({"vkcube-wayland", "--c", "120"}));
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(c.process().wait(120s)) << "vkcube did not finish 120 frames";
    const std::string out = c.process().output();
    EXPECT_EQ(c.process().exit_code(), 0) << out;
    EXPECT_TRUE(contains(out, "Insert instance layer \"VK_LAYER_KHRONOS_validation\"")) << out;
    EXPECT_TRUE(contains(out, kActs)) << out;
    EXPECT_FALSE(contains(out, "Validation Error")) << out;
    EXPECT_FALSE(contains(out, "VUID-")) << out;
}

// Without the global the layer steps aside and says why; vkcube runs on Mesa's WSI.
TEST(Vkcube, PassesThroughWithoutTheGlobal)
{
    if (!have("vkcube-wayland"))
        GTEST_SKIP() << "vkcube-wayland (vulkan-tools) is not installed";
    RecordedRun run({"--syncobj", "off"}, client({"vkcube-wayland", "--c", "60"}));
    Compositor& c = run.c;
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(c.process().wait(60s));
    const std::string out = c.process().output();
    EXPECT_EQ(c.process().exit_code(), 0) << out;
    EXPECT_TRUE(contains(out, "does not advertise wp_linux_drm_syncobj_manager_v1")) << out;
    EXPECT_FALSE(contains(out, kActs)) << out;
    EXPECT_GT(run.trace().size(), 0u) << "no recording";
    EXPECT_EQ(commits_with_acquire_points(run.trace()), 0u);
}

// --no-vulkan-layer: the loader never loads the layer.
TEST(Vkcube, NoVulkanLayerOption)
{
    if (!have("vkcube-wayland"))
        GTEST_SKIP() << "vkcube-wayland (vulkan-tools) is not installed";
    ScopedEnv debug("VK_LOADER_DEBUG", "info");
    Compositor c({"--no-vulkan-layer"}, client({"vkcube-wayland", "--c", "30"}));
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(c.process().wait(60s));
    const std::string out = c.process().output();
    EXPECT_EQ(c.process().exit_code(), 0) << out;
    EXPECT_FALSE(contains(out, "Insert instance layer \"VK_LAYER_SYNCWAY_explicit_sync\"")) << out;
    EXPECT_FALSE(contains(out, kActs)) << out;
}

// Acquire with every image held: VK_NOT_READY at once, VK_TIMEOUT after the timeout; images
// come back once presented and released.
TEST(Client, AcquireTimeouts)
{
    ScopedEnv debug("VK_LOADER_DEBUG", "info");
    Compositor c({}, test_client({"timeouts"}));
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(c.process().wait(60s)) << c.process().output();
    EXPECT_EQ(c.process().exit_code(), 0) << c.process().output();
    EXPECT_TRUE(contains(c.process().output(), "images came back ok")) << c.process().output();
    EXPECT_TRUE(contains(c.process().output(), kActs)) << c.process().output();
}

// A new swapchain with oldSwapchain at twice the size: the old one is out of date, the new one
// fills 640x480 with blue.
TEST(Client, RecreateWithOldSwapchain)
{
    Compositor c({"--output", "1024x768@60"}, test_client({"recreate", "--frames", "20", "--size", "320x240"}));
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    auto blue = [](Rgb p) { return p.b > 200 && p.r < 50 && p.g < 50; };
    // Inside the new size (clear of the cursor in the corner), and nothing beyond it.
    const Rect inside{40, 40, 600, 440}, beyond{640, 480, 100, 100};
    auto shot = c.wait_for_screenshot([&](const Image& i) { return i.count(inside, blue) == 600u * 440u; });
    ASSERT_TRUE(shot) << c.process().output();
    EXPECT_EQ(shot->count(inside, blue), 600u * 440u) << c.process().output();
    EXPECT_EQ(shot->count(beyond, blue), 0u);
    EXPECT_TRUE(wait_until([&] { return contains(c.process().output(), "recreated 320x240 -> 640x480 ok"); }, 30s))
        << c.process().output();
}

// Every advertised present mode presents frames; FIFO no faster than the output's 30 Hz
// refresh (one frame per frame callback), MAILBOX and IMMEDIATE faster (they never wait for it).
TEST(Client, PresentModes)
{
    for (const char* mode : {"fifo", "mailbox", "immediate"}) {
        Compositor c({"--output", "640x480@30"}, test_client({"frames", "--frames", "90", "--present-mode", mode}));
        ASSERT_TRUE(c.wait_ready()) << c.process().output();
        ASSERT_TRUE(c.process().wait(60s)) << mode << ": " << c.process().output();
        EXPECT_EQ(c.process().exit_code(), 0) << mode << ": " << c.process().output();
        std::smatch m;
        std::string out = c.process().output();
        ASSERT_TRUE(std::regex_search(out, m, std::regex("fps ([0-9.]+)"))) << mode << ": " << out;
        double fps = std::stod(m[1].str());
        if (std::string(mode) == "fifo")
            EXPECT_LE(fps, 33.0) << "FIFO outran the refresh";
        else
            EXPECT_GT(fps, 33.0) << mode << " was paced like FIFO";
    }
}

// The application stops, then dies, while its last frame's GPU work runs: syncway holds that
// commit (the previous, red frame stays on screen) and never shows it; the dead signaler
// fails the point, and syncway carries on to report the application's death.
TEST(Client, KilledMidFrame)
{
    Compositor c({"--output", "640x480@60"}, test_client({"killed-mid-frame", "--frames", "10"}));
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    auto red = [](Rgb p) { return p.r > 200 && p.g < 50 && p.b < 50; };
    pid_t pid = 0;
    ASSERT_TRUE(wait_until([&] {
        std::string out = c.process().output();
        std::smatch m;
        if (!std::regex_search(out, m, std::regex("presented green \\(0\\) pid ([0-9]+)")))
            return false;
        pid = std::stoi(m[1].str());
        return true;
    }, 60s)) << c.process().output();
    // The client stopped right after presenting; its green frame is committed but not done.
    for (int i = 0; i < 5; ++i) {
        auto shot = c.screenshot();
        ASSERT_TRUE(shot);
        // (Clear of the cursor in the corner.)
        EXPECT_EQ(shot->count({40, 40, 280, 200}, red), 280u * 200u) << "the held frame reached the screen";
    }
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(c.process().wait(30s)) << c.process().output();
    EXPECT_EQ(c.process().exit_code(), 128 + SIGKILL) << c.process().output();
}

// syncway is killed under a running application: its next acquire or present fails with
// VK_ERROR_SURFACE_LOST_KHR or VK_ERROR_OUT_OF_DATE_KHR instead of hanging.
TEST(Client, CompositorKilledUnderTheApplication)
{
    Compositor c({}, test_client({"until-error"}));
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(wait_until([&] { return contains(c.process().output(), "running"); }, 30s)) << c.process().output();
    std::this_thread::sleep_for(500ms);
    c.process().signal(SIGKILL);
    ASSERT_TRUE(wait_until([&] { return contains(c.process().output(), "error "); }, 30s))
        << "the application hung after the compositor died:\n" << c.process().output();
    std::smatch m;
    std::string out = c.process().output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("error (-?[0-9]+)")));
    int result = std::stoi(m[1].str());
    EXPECT_TRUE(result == VK_ERROR_SURFACE_LOST_KHR_VALUE || result == VK_ERROR_OUT_OF_DATE_KHR_VALUE) << out;
}

// Where a dma-buf source exists (a dma-buf heap or udmabuf: the VM tier), swapchain images are
// dma-bufs shared through linux-dmabuf: syncway holds them open (one per image at least); where
// none does (this host, CI), memfds through wl_shm: syncway holds no dma-buf. Either way the
// layer says which and why, every commit of the window carries an acquire point, and its red
// frames reach the screen. Prints the layer's line and the exporters syncway holds (for the VM
// check, which tells a heap from udmabuf by them).
TEST(Client, ImagePathFollowsTheDmaBufSource)
{
    const bool dmabuf = dma_buf_source_exists();
    RecordedRun run({"--output", "640x480@60"}, test_client({"solid-red", "--frames", "30"}));
    Compositor& c = run.c;
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(wait_until([&] { return contains(c.process().output(), "fps "); }, 60s)) << c.process().output();
    auto red = [](Rgb p) { return p.r > 200 && p.g < 50 && p.b < 50; };
    auto shot = c.wait_for_screenshot([&](const Image& i) { return i.count({40, 40, 240, 160}, red) == 240u * 160u; });
    ASSERT_TRUE(shot) << c.process().output();
    EXPECT_EQ(shot->count({40, 40, 240, 160}, red), 240u * 160u) << "the red frames are not on screen";

    const std::string out = c.process().output();
    const std::string said = dmabuf ? "images: dma-bufs from " : "images: memfds through wl_shm: no dma-buf source on this machine";
    EXPECT_TRUE(contains(out, said)) << "expected the layer to say \"" << said << "\":\n" << out;
    std::printf("layer: %s\n", line_with(out, "images: ").c_str());
    const std::vector<std::string> held = dma_bufs_held_by(c.process().pid());
    std::string exporters;
    for (const std::string& e : held)
        exporters += " " + e;
    std::printf("syncway holds %zu dma-bufs:%s\n", held.size(), exporters.c_str());
    if (dmabuf)
        EXPECT_GE(held.size(), 3u) << "the swapchain's images should be dma-bufs syncway imported";
    else
        EXPECT_EQ(held.size(), 0u) << "no dma-buf source here, yet syncway holds dma-bufs:" << exporters;
    size_t with_buffer = 0;
    for (const TraceCommit& commit : trace_commits(run.trace())) {
        if (commit.buffer_kind.empty())
            continue;
        ++with_buffer;
        EXPECT_GE(commit.acquire_timeline, 0) << "a commit without an acquire point";
    }
    EXPECT_GE(with_buffer, 30u) << run.trace().substr(0, 4000);
}

// Two windows of one process, each with its own swapchain (FIFO and MAILBOX), presented from
// two threads at once: both reach the screen, and syncway's recording shows each surface's
// commits with acquire and release timelines of its own, interleaved with the other's.
TEST(Client, TwoSwapchainsInOneProcess)
{
    RecordedRun run({"--output", "640x480@60"}, test_client({"two-windows", "--frames", "60", "--size", "320x240"}));
    Compositor& c = run.c;
    ASSERT_TRUE(c.wait_ready()) << c.process().output();
    ASSERT_TRUE(wait_until([&] { return contains(c.process().output(), "two windows ok"); }, 60s))
        << c.process().output();
    // A (160x240, red) and B (320x120, blue), both at the output's corner: whichever is on
    // top, A shows below B and B right of A (clear of the cursor in the corner).
    auto red = [](Rgb p) { return p.r > 200 && p.g < 50 && p.b < 50; };
    auto blue = [](Rgb p) { return p.b > 200 && p.r < 50 && p.g < 50; };
    const Rect in_b{180, 40, 120, 60}, in_a_only{40, 140, 100, 80};
    auto shot = c.wait_for_screenshot(
        [&](const Image& i) { return i.count(in_b, blue) == 120u * 60u && i.count(in_a_only, red) == 100u * 80u; });
    ASSERT_TRUE(shot) << c.process().output();
    EXPECT_EQ(shot->count(in_b, blue), 120u * 60u) << "window B is not on screen";
    EXPECT_EQ(shot->count(in_a_only, red), 100u * 80u) << "window A is not on screen";

    const std::string out = c.process().output();
    EXPECT_TRUE(contains(out, "present mode 2: " + kActs)) << out; // FIFO
    EXPECT_TRUE(contains(out, "present mode 1: " + kActs)) << out; // MAILBOX

    struct PerSurface {
        std::vector<size_t> order; // positions in the recording
        std::set<long> acquire, release;
        size_t held = 0;
    };
    std::map<long, PerSurface> surfaces;
    std::set<long> clients;
    const auto commits = trace_commits(run.trace());
    for (size_t i = 0; i < commits.size(); ++i) {
        const TraceCommit& commit = commits[i];
        if (commit.acquire_timeline < 0)
            continue;
        PerSurface& s = surfaces[commit.surface];
        s.order.push_back(i);
        s.acquire.insert(commit.acquire_timeline);
        s.release.insert(commit.release_timeline);
        s.held += commit.held;
        clients.insert(commit.client);
    }
    ASSERT_EQ(surfaces.size(), 2u) << "expected two surfaces with acquire points:\n" << run.trace().substr(0, 4000);
    EXPECT_EQ(clients.size(), 1u) << "the two surfaces should be one client's";
    auto& a = surfaces.begin()->second;
    auto& b = std::next(surfaces.begin())->second;
    for (PerSurface* s : {&a, &b}) {
        EXPECT_GE(s->order.size(), 60u);
        EXPECT_EQ(s->acquire.size(), 1u) << "one acquire timeline per swapchain";
        EXPECT_GE(s->release.size(), 3u) << "a release timeline per image";
    }
    for (long t : a.acquire)
        EXPECT_FALSE(b.acquire.count(t)) << "acquire timeline " << t << " is used by both surfaces";
    for (long t : a.release)
        EXPECT_FALSE(b.release.count(t)) << "release timeline " << t << " is used by both surfaces";
    EXPECT_GE(a.held + b.held, 1u) << "no commit was held for its acquire point";
    // Concurrent, not one after the other: commits of each fall within the other's span.
    auto within = [](const PerSurface& x, const PerSurface& y) {
        size_t n = 0;
        for (size_t i : x.order)
            n += i > y.order.front() && i < y.order.back();
        return n;
    };
    EXPECT_GE(within(a, b) + within(b, a), 20u) << "the two windows' commits did not interleave";
}
