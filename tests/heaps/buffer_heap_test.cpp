// syncway's own framebuffers from heaps/ (`--buffer-heap`): a real headless syncway (pixman)
// renders a client's dma-buf into framebuffers from the source the option selects; the grim
// screenshot (read back from those framebuffers) must show the client's pixels, the log must
// name the source and why, and syncway must hold the framebuffers' fds. Selections that cannot
// be met stop start-up with an error naming them. On this kernel or the VM tier's (heaps and
// udmabuf there: the same tests then see dma-buf heap framebuffers).
#include "compositor_process.hpp"
#include "dmabuf_client.hpp"
#include "screenshot.hpp"
#include "test_support.hpp"

#include "syncway/heaps/allocator.hpp"
#include "syncway/heaps/buffer_layout.hpp"
#include "syncway/heaps/fd_info.hpp"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace syncway::heaps;
using namespace syncway::heaps::test;

namespace {

constexpr uint32_t out_w = 320, out_h = 240;

std::string syncway_bin()
{
    const char* bin = std::getenv("SYNCWAY_BIN");
    return bin ? bin : "";
}

std::string grim_path()
{
    for (const char* p : {"/usr/bin/grim", "/usr/local/bin/grim"})
        if (access(p, X_OK) == 0)
            return p;
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// What `auto` must pick on this kernel, as the log names it.
std::string expected_auto_source()
{
    if (is_char_device("/dev/dma_heap/system"))
        return "dma-buf heap 'system'";
    if (is_char_device("/dev/udmabuf"))
        return "udmabuf";
    return "memfd (not a dma-buf)";
}

// The framebuffers syncway holds: the fds whose dma-buf buffer name or memfd name is ours.
struct HeldFramebuffers {
    int dmabufs = 0;
    int memfds = 0;
    std::vector<std::string> exporters;
};

HeldFramebuffers held_framebuffers(pid_t pid)
{
    HeldFramebuffers held;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (!d)
        return held;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        char target[512] = {};
        std::string link = dir + "/" + e->d_name;
        ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
        if (n <= 0)
            continue;
        std::string t(target, static_cast<size_t>(n));
        if (contains(t, "memfd:syncway:syncway-framebuffer") && !contains(t, "probe")) {
            ++held.memfds;
            continue;
        }
        if (!contains(t, "dmabuf"))
            continue;
        std::string info_path = "/proc/" + std::to_string(pid) + "/fdinfo/" + e->d_name;
        FILE* f = fopen(info_path.c_str(), "r");
        if (!f)
            continue;
        char line[256];
        std::string exporter, name;
        while (fgets(line, sizeof line, f)) {
            std::string l(line);
            if (l.rfind("exp_name:", 0) == 0)
                exporter = l.substr(l.find_first_not_of(" \t", 9));
            if (l.rfind("name:", 0) == 0)
                name = l.substr(l.find_first_not_of(" \t", 5));
        }
        fclose(f);
        if (contains(name, "syncway-framebuffer") && !contains(name, "probe")) {
            ++held.dmabufs;
            while (!exporter.empty() && (exporter.back() == '\n' || exporter.back() == ' '))
                exporter.pop_back();
            held.exporters.push_back(exporter);
        }
    }
    closedir(d);
    return held;
}

// Presents the quadrant pattern from a client dma-buf (any backend) and checks the screenshot.
void present_and_check(CompositorProcess& compositor)
{
    compositor.export_environment();
    const FormatInfo& xrgb = *find_format("XRGB8888");
    auto layout = compute_layout(static_cast<uint32_t>(xrgb.format), out_w, out_h);
    ASSERT_TRUE(layout.ok());
    AllocationRequest request;
    request.size = layout->alloc_size;
    request.debug_name = "buffer-heap-test-client";
    auto buffer = Allocator().allocate(request);
    ASSERT_TRUE(buffer.ok()) << buffer.error().message;
    {
        auto mapping = buffer->map();
        ASSERT_TRUE(mapping.ok()) << mapping.error().message;
        fill_quadrants(mapping->data(), xrgb, out_w, out_h, layout->stride);
    }
    DmabufClient client;
    ASSERT_TRUE(client.error().empty()) << client.error();
    ASSERT_TRUE(client.map_window());
    PlaneSpec plane{buffer->fd.get(), 0, 0, layout->stride, 0};
    bool failed = false;
    wl_buffer* wl = client.create_buffer({plane}, out_w, out_h, static_cast<uint32_t>(xrgb.format), true, &failed);
    ASSERT_NE(wl, nullptr) << (failed ? "the compositor answered `failed`" : "no buffer");
    ASSERT_TRUE(client.present(wl)) << "no frame callback";
    std::string grim = grim_path();
    ASSERT_FALSE(grim.empty()) << "grim is not installed (scripts/setup.sh installs it)";
    Screenshot shot = take_screenshot(grim);
    ASSERT_TRUE(shot.error.empty()) << shot.error;
    ASSERT_EQ(shot.width, out_w);
    ASSERT_EQ(shot.height, out_h);
    // (0, 0) is under the software cursor.
    for (auto [x, y] : {std::pair{out_w / 4, out_h / 4}, {3 * out_w / 4, out_h / 4}, {out_w / 4, 3 * out_h / 4},
                        {3 * out_w / 4, 3 * out_h / 4}, {out_w - 1, 0u}, {0u, out_h - 1}, {out_w - 1, out_h - 1}})
        EXPECT_EQ(shot.at(x, y), quadrant_colour(x, y, out_w, out_h)) << "pixel (" << x << ", " << y << ")";
    wl_buffer_destroy(wl);
    client.roundtrip();
}

// Starts syncway with `args`, which must fail: exit status 1, the log naming `named`.
void expect_refused(const std::vector<std::string>& args, const std::vector<std::string>& named)
{
    CompositorProcess compositor(syncway_bin(), std::to_string(out_w) + "x" + std::to_string(out_h), "headless",
                                 args);
    ASSERT_FALSE(compositor.error().empty()) << "syncway started with " << args[1];
    for (int i = 0; i < 500 && compositor.alive(); ++i)
        usleep(10000);
    ASSERT_FALSE(compositor.alive());
    int status = compositor.wait_status();
    ASSERT_TRUE(WIFEXITED(status)) << "syncway did not exit normally (status " << status << "): " << compositor.log();
    EXPECT_EQ(WEXITSTATUS(status), 1) << compositor.log();
    // The message syncway exits with (main prints "syncway: MESSAGE") names the heap, not
    // merely an output that could not be enabled.
    std::string log = compositor.log();
    size_t at = log.rfind("\nsyncway: ");
    ASSERT_NE(at, std::string::npos) << "no final error message:\n" << log;
    std::string message = log.substr(at + 1, log.find('\n', at + 1) - at - 1);
    for (const std::string& part : named)
        EXPECT_TRUE(contains(message, part)) << "the error does not name " << part << ": " << message;
    // Nothing leaked or misused on the way out (ASan exits 1 on a leak, like the refusal).
    EXPECT_FALSE(contains(log, "Sanitizer")) << log;
    // Refused before any output was set up: no output ever reported a mode ("WxH@R Hz"; with
    // the space, since the random runtime directory name may hold "Hz").
    EXPECT_FALSE(contains(log, " Hz")) << log;
}

class BufferHeap : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (syncway_bin().empty())
            GTEST_SKIP() << "SYNCWAY_BIN is not set (the compositor is not part of this build)";
    }
};

} // namespace

TEST_F(BufferHeap, AutoTakesThisKernelsBestSourceAndShowsTheRightPixels)
{
    CompositorProcess compositor(syncway_bin(), std::to_string(out_w) + "x" + std::to_string(out_h), "headless",
                                 {"--buffer-heap", "auto"});
    ASSERT_TRUE(compositor.error().empty()) << compositor.error();
    present_and_check(compositor);
    std::string log = compositor.log();
    std::string source = expected_auto_source();
    EXPECT_TRUE(contains(log, "output HEADLESS-1: framebuffers from " + source + ": --buffer-heap auto"))
        << "expected the source " << source << " in the log:\n"
        << log;
    if (source != "dma-buf heap 'system'") {
        // The fallback names why the heap was passed over.
        EXPECT_TRUE(contains(log, "/dev/dma_heap")) << log;
    }
    if (source == "memfd (not a dma-buf)") {
        EXPECT_TRUE(contains(log, "/dev/udmabuf")) << log;
    }
    // Exactly one choice logged for the one output.
    size_t first = log.find("framebuffers from");
    EXPECT_EQ(log.find("framebuffers from", first + 1), std::string::npos) << log;

    HeldFramebuffers held = held_framebuffers(compositor.pid());
    if (source == "memfd (not a dma-buf)") {
        EXPECT_GE(held.memfds, 1) << "syncway holds no memfd framebuffer";
        EXPECT_EQ(held.dmabufs, 0);
    } else {
        EXPECT_GE(held.dmabufs, 1) << "syncway holds no dma-buf framebuffer";
        for (const std::string& exporter : held.exporters)
            EXPECT_EQ(exporter, source == "udmabuf" ? "udmabuf" : "system");
    }
    EXPECT_TRUE(compositor.alive());
}

TEST_F(BufferHeap, NoneKeepsWlrootsAllocator)
{
    CompositorProcess compositor(syncway_bin(), std::to_string(out_w) + "x" + std::to_string(out_h), "headless",
                                 {"--buffer-heap", "none"});
    ASSERT_TRUE(compositor.error().empty()) << compositor.error();
    present_and_check(compositor);
    EXPECT_TRUE(contains(compositor.log(), "framebuffers from wlroots' allocator (--buffer-heap none)"))
        << compositor.log();
    HeldFramebuffers held = held_framebuffers(compositor.pid());
    EXPECT_EQ(held.memfds + held.dmabufs, 0) << "heaps/ framebuffers with --buffer-heap none";
}

TEST_F(BufferHeap, MissingSystemHeapFailsStartNamingIt)
{
    if (is_char_device("/dev/dma_heap/system"))
        GTEST_SKIP() << "this kernel has the system heap (NamedHeapThatDoesNotExist covers a missing one)";
    expect_refused({"--buffer-heap", "system"}, {"--buffer-heap heap 'system'", "no dma-buf heap named 'system'",
                                                 "/dev/dma_heap"});
}

TEST_F(BufferHeap, NamedHeapThatDoesNotExist)
{
    expect_refused({"--buffer-heap", "no-such-heap"}, {"no dma-buf heap named 'no-such-heap'"});
}

TEST_F(BufferHeap, PropertiesNoHeapMeets)
{
    // Neither this machine nor the VM tier has contiguous uncacheable memory.
    expect_refused({"--buffer-heap", "contiguous,uncacheable"},
                   {"--buffer-heap a heap that is uncacheable, contiguous"});
}
