// A client that shrinks the file behind a wl_shm buffer the compositor still shows must not
// crash it: reads of that memory past the file's end fault (SIGBUS), and wlroots 0.15 keeps
// sampling the pool after the wl_buffer is destroyed, outside libwayland's guard. The client is
// disconnected; the compositor and its other clients carry on.
#include "compositor_fixture.hpp"

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/dispatch.hpp>
#include <syncway/testing/toplevel.hpp>
#include <syncway/unique_fd.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string_view>

using namespace syncway::test;
namespace st = syncway::testing;

namespace {

constexpr int32_t kSize = 256;
constexpr uint32_t kMagenta = 0xffd020d0;

struct Globals {
    st::CoreGlobals core;
    static void global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t)
    {
        static_cast<Globals*>(data)->core.bind(registry, name, interface);
    }
    static void global_remove(void*, wl_registry*, uint32_t) {}
};
const wl_registry_listener registry_listener = {Globals::global, Globals::global_remove};

void on_frame_done(void* data, wl_callback* callback, uint32_t)
{
    *static_cast<bool*>(data) = true;
    wl_callback_destroy(callback);
}
const wl_callback_listener frame_listener = {on_frame_done};

// The attack, step by step: `truncate_to` is the file size the pool is cut down to after the
// buffer is gone (0: everything).
struct Truncator {
    wl_display* display = nullptr;
    wl_registry* registry = nullptr;
    std::unique_ptr<Globals> globals = std::make_unique<Globals>();
    std::unique_ptr<st::Toplevel> toplevel;

    explicit Truncator(const Compositor& compositor)
    {
        std::string path = compositor.runtime_dir() + "/" + compositor.socket();
        display = wl_display_connect(path.c_str());
        if (!display)
            return;
        registry = wl_display_get_registry(display);
        wl_registry_add_listener(registry, &registry_listener, globals.get());
        wl_display_roundtrip(display);
    }
    ~Truncator()
    {
        toplevel.reset();
        if (registry)
            wl_registry_destroy(registry);
        globals.reset();  // proxies before their display
        if (display)
            wl_display_disconnect(display);
    }

    // Shows a magenta buffer, waits for the frame that shows it, destroys the wl_buffer and
    // its pool, truncates the file and commits damage. Returns an empty string or what failed.
    std::string attack(off_t truncate_to)
    {
        if (!display || !globals->core.complete())
            return "cannot connect or bind the core globals";
        toplevel = std::make_unique<st::Toplevel>(globals->core.compositor, globals->core.wm_base, "truncator");
        if (st::dispatch_until(display, [&] { return toplevel->configured(); }, client_timeout) !=
            st::DispatchResult::done)
            return "no configure";
        const size_t size = size_t(kSize) * kSize * 4;
        syncway::UniqueFd fd(memfd_create("truncator", MFD_CLOEXEC));
        if (!fd || ftruncate(fd.get(), off_t(size)) != 0)
            return std::string("memfd: ") + std::strerror(errno);
        void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (data == MAP_FAILED)
            return std::string("mmap: ") + std::strerror(errno);
        std::fill_n(static_cast<uint32_t*>(data), size / 4, kMagenta);
        munmap(data, size);
        wl_shm_pool* pool = wl_shm_create_pool(globals->core.shm, fd.get(), int32_t(size));
        wl_buffer* buffer = wl_shm_pool_create_buffer(pool, 0, kSize, kSize, kSize * 4, WL_SHM_FORMAT_XRGB8888);
        wl_surface* surface = toplevel->surface();
        bool framed = false;
        wl_callback_add_listener(wl_surface_frame(surface), &frame_listener, &framed);
        wl_surface_attach(surface, buffer, 0, 0);
        wl_surface_damage_buffer(surface, 0, 0, kSize, kSize);
        wl_surface_commit(surface);
        if (st::dispatch_until(display, [&] { return framed; }, client_timeout) != st::DispatchResult::done)
            return "the first frame never came";
        wl_buffer_destroy(buffer);
        wl_shm_pool_destroy(pool);
        if (wl_display_roundtrip(display) < 0)
            return "lost the connection before truncating";
        if (ftruncate(fd.get(), truncate_to) != 0)
            return std::string("ftruncate: ") + std::strerror(errno);
        wl_surface_damage_buffer(surface, 0, 0, kSize, kSize);
        wl_surface_commit(surface);
        wl_display_flush(display);
        return "";
    }

    // True once the compositor ended the connection with a protocol error.
    bool disconnected_with_error()
    {
        st::dispatch_until(display, [] { return false; }, client_timeout);
        return wl_display_get_error(display) == EPROTO;
    }
};

} // namespace

TEST(ShmTruncation, TruncatedPoolDisconnectsTheClientNotTheCompositor)
{
    Compositor compositor({"--output", "640x480", "--renderer", "pixman"});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    Process good({"weston-simple-shm"}, compositor.client_env());
    constexpr Rect area{40, 40, 170, 170};
    auto drawn = [&](const Image& image) { return image.distinct_colors(area) > 50; };
    ASSERT_TRUE(compositor.wait_for_screenshot(drawn)) << good.output();

    for (off_t cut : {off_t(0), off_t(4096)}) {
        Truncator truncator(compositor);
        std::string failed = truncator.attack(cut);
        ASSERT_EQ(failed, "") << compositor.process().output();
        EXPECT_TRUE(truncator.disconnected_with_error())
            << "truncated to " << cut << ": the truncating client was not disconnected with a protocol error";
        ASSERT_TRUE(compositor.process().running())
            << "truncated to " << cut << ": syncway died\n" << compositor.process().output();
        EXPECT_NE(compositor.process().output().find("truncated"), std::string::npos)
            << "the log does not say which client truncated its pool\n" << compositor.process().output();
    }
    // The compositor still renders the other client's new frames.
    auto before = compositor.screenshot();
    ASSERT_TRUE(before);
    auto after = compositor.wait_for_screenshot(
        [&](const Image& image) { return drawn(image) && !image.same_pixels(*before, area); });
    EXPECT_TRUE(after) << "weston-simple-shm's frames stopped\n" << good.output();
    EXPECT_TRUE(good.running()) << good.output();
    RunResult info = run({"wayland-info"}, compositor.client_env());
    EXPECT_EQ(info.exit_code, 0) << info.output;
}
