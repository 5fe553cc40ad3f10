// The cursor: the xcursor image is drawn where the pointer is, and a client's
// wl_pointer.set_cursor surface replaces it while the pointer is over that client.
#include "compositor_fixture.hpp"
#include "recorded_frame.hpp"

#include "presentation-time-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <poll.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <cstring>
#include <string_view>
#include <vector>

using namespace syncway::test;

namespace {

// An shm buffer of one colour (ARGB8888).
wl_buffer* solid_buffer(wl_shm* shm, int width, int height, uint32_t argb)
{
    return syncway::testing::solid_shm_buffer(shm, width, height, argb, WL_SHM_FORMAT_ARGB8888);
}

// A blue window that, once the pointer enters it, shows a 16x16 red cursor surface.
struct CursorClient {
    wl_display* display = nullptr;
    wl_registry* registry = nullptr;
    std::unique_ptr<syncway::testing::CoreGlobals> core = std::make_unique<syncway::testing::CoreGlobals>();
    wl_seat* seat = nullptr;
    wl_output* output = nullptr;
    wp_presentation* presentation = nullptr;
    wl_pointer* pointer = nullptr;
    std::unique_ptr<syncway::testing::Toplevel> window;
    wl_surface* cursor_surface = nullptr;
    wl_buffer* window_buffer = nullptr;
    wl_buffer* cursor_buffer = nullptr;
    bool cursor_set = false;
    uint32_t enter_serial = 0;

    ~CursorClient()
    {
        for (wl_buffer* b : {window_buffer, cursor_buffer})
            if (b)
                wl_buffer_destroy(b);
        window.reset();
        if (cursor_surface)
            wl_surface_destroy(cursor_surface);
        if (pointer)
            wl_pointer_release(pointer);
        if (seat)
            wl_seat_release(seat);
        if (presentation)
            wp_presentation_destroy(presentation);
        if (output)
            wl_output_release(output);
        core.reset();  // proxies go before their display
        if (registry)
            wl_registry_destroy(registry);
        if (display)
            wl_display_disconnect(display);
    }
};

void on_global(void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t)
{
    auto* c = static_cast<CursorClient*>(data);
    std::string_view iface(interface);
    if (c->core->bind(registry, name, iface))
        return;
    if (iface == wl_seat_interface.name)
        c->seat = static_cast<wl_seat*>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
    else if (iface == wl_output_interface.name && !c->output)
        c->output = static_cast<wl_output*>(wl_registry_bind(registry, name, &wl_output_interface, 3));
    else if (iface == wp_presentation_interface.name)
        c->presentation = static_cast<wp_presentation*>(wl_registry_bind(registry, name, &wp_presentation_interface, 1));
}
const wl_registry_listener registry_listener = {on_global, [](void*, wl_registry*, uint32_t) {}};

const wl_pointer_listener pointer_listener = {
    .enter =
        [](void* data, wl_pointer* pointer, uint32_t serial, wl_surface*, wl_fixed_t, wl_fixed_t) {
            auto* c = static_cast<CursorClient*>(data);
            c->enter_serial = serial;
            wl_pointer_set_cursor(pointer, serial, c->cursor_surface, 0, 0);
            c->cursor_set = true;
        },
    .leave = [](void*, wl_pointer*, uint32_t, wl_surface*) {},
    .motion = [](void*, wl_pointer*, uint32_t, wl_fixed_t, wl_fixed_t) {},
    .button = [](void*, wl_pointer*, uint32_t, uint32_t, uint32_t, uint32_t) {},
    .axis = [](void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {},
    .frame = [](void*, wl_pointer*) {},
    .axis_source = [](void*, wl_pointer*, uint32_t) {},
    .axis_stop = [](void*, wl_pointer*, uint32_t, uint32_t) {},
    .axis_discrete = [](void*, wl_pointer*, uint32_t, int32_t) {},
};
// Pumps events for up to timeout, until done() holds.
bool pump(CursorClient& c, std::chrono::milliseconds timeout, const std::function<bool()>& done)
{
    return wait_until(
        [&] {
            wl_display_flush(c.display);
            pollfd p{wl_display_get_fd(c.display), POLLIN, 0};
            if (poll(&p, 1, 0) > 0 && wl_display_dispatch(c.display) < 0)
                return true;  // connection lost: let the caller's checks fail
            wl_display_dispatch_pending(c.display);
            return done();
        },
        timeout);
}

constexpr Rgb blue{0, 0, 255};
constexpr Rgb red{255, 0, 0};

// Connects, gives the cursor surface its red 16x16 image and maps a blue window filling the
// 640x480 output under the pointer, which then gets wl_pointer.enter and sets its cursor.
void connect_and_map(Compositor& compositor, CursorClient& c)
{
    std::string path = compositor.runtime_dir() + "/" + compositor.socket();
    c.display = wl_display_connect(path.c_str());
    ASSERT_NE(c.display, nullptr);
    c.registry = wl_display_get_registry(c.display);
    wl_registry_add_listener(c.registry, &registry_listener, &c);
    ASSERT_GE(wl_display_roundtrip(c.display), 0);
    ASSERT_TRUE(c.core->complete() && c.seat);
    c.pointer = wl_seat_get_pointer(c.seat);
    wl_pointer_add_listener(c.pointer, &pointer_listener, &c);
    c.cursor_surface = wl_compositor_create_surface(c.core->compositor);
    c.cursor_buffer = solid_buffer(c.core->shm, 16, 16, 0xffff0000);
    wl_surface_attach(c.cursor_surface, c.cursor_buffer, 0, 0);
    wl_surface_damage(c.cursor_surface, 0, 0, 16, 16);
    wl_surface_commit(c.cursor_surface);

    c.window = std::make_unique<syncway::testing::Toplevel>(c.core->compositor, c.core->wm_base, nullptr);
    ASSERT_TRUE(pump(c, client_timeout, [&] { return c.window->configured(); }));
    // Configured to fill the output.
    EXPECT_EQ(c.window->width(), 640);
    EXPECT_EQ(c.window->height(), 480);
    const int width = std::max(c.window->width(), 1), height = std::max(c.window->height(), 1);
    c.window_buffer = solid_buffer(c.core->shm, width, height, 0xff0000ff);
    wl_surface_attach(c.window->surface(), c.window_buffer, 0, 0);
    wl_surface_damage(c.window->surface(), 0, 0, width, height);
    wl_surface_commit(c.window->surface());

    // Mapped under the pointer: it gets wl_pointer.enter and sets its cursor.
    ASSERT_TRUE(pump(c, client_timeout, [&] { return c.cursor_set; })) << "no wl_pointer.enter";
}

// What wp_presentation said about one commit.
struct Feedback {
    enum { waiting, presented, discarded } state = waiting;
    wl_output* sync_output = nullptr;
    uint64_t presented_ns = 0;
};

const wp_presentation_feedback_listener feedback_listener = {
    .sync_output = [](void* data, struct wp_presentation_feedback*,
                      wl_output* output) { static_cast<Feedback*>(data)->sync_output = output; },
    .presented =
        [](void* data, struct wp_presentation_feedback* feedback, uint32_t sec_hi, uint32_t sec_lo, uint32_t nsec,
           uint32_t, uint32_t, uint32_t, uint32_t) {
            auto* f = static_cast<Feedback*>(data);
            f->state = Feedback::presented;
            f->presented_ns = ((uint64_t(sec_hi) << 32 | sec_lo) * 1000000000u) + nsec;
            wp_presentation_feedback_destroy(feedback);
        },
    .discarded =
        [](void* data, struct wp_presentation_feedback* feedback) {
            static_cast<Feedback*>(data)->state = Feedback::discarded;
            wp_presentation_feedback_destroy(feedback);
        },
};

uint64_t monotonic_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// Gives the cursor surface a new 16x16 image of one colour, asking for its feedback.
wl_buffer* commit_cursor_image(CursorClient& c, uint32_t argb, Feedback* feedback)
{
    wl_buffer* buffer = solid_buffer(c.core->shm, 16, 16, argb);
    wl_surface_attach(c.cursor_surface, buffer, 0, 0);
    wl_surface_damage(c.cursor_surface, 0, 0, 16, 16);
    if (feedback)
        wp_presentation_feedback_add_listener(wp_presentation_feedback(c.presentation, c.cursor_surface),
                                              &feedback_listener, feedback);
    wl_surface_commit(c.cursor_surface);
    return buffer;
}

} // namespace

TEST(Cursor, XcursorImageThenClientCursorSurface)
{
    Compositor compositor({"--output", "640x480"});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();

    // Before any client: the theme's arrow at the pointer (0,0), on the black background.
    constexpr Rect corner{0, 0, 16, 16};
    auto arrow = compositor.wait_for_screenshot(
        [&](const Image& image) { return image.count(corner, [](Rgb p) { return !(p == background); }) > 10; });
    ASSERT_TRUE(arrow) << "no screenshot";
    EXPECT_GT(arrow->count(corner, [](Rgb p) { return !(p == background); }), size_t(10))
        << "no cursor image drawn at the pointer";

    CursorClient c;
    connect_and_map(compositor, c);
    ASSERT_FALSE(HasFatalFailure());
    std::optional<Image> shot;
    bool shown = pump(c, client_timeout, [&] {
        shot = compositor.screenshot();
        return shot && shot->at(8, 8) == red && shot->at(100, 100) == blue;
    });
    ASSERT_TRUE(shot);
    EXPECT_TRUE(shown) << "at (8,8): " << int(shot->at(8, 8).r) << "," << int(shot->at(8, 8).g) << ","
                       << int(shot->at(8, 8).b) << "; at (100,100): " << int(shot->at(100, 100).r) << ","
                       << int(shot->at(100, 100).g) << "," << int(shot->at(100, 100).b);
}

// A cursor surface's wp_presentation feedback says when its image reached the screen, on the
// output the cursor is on; an image that is never shown (the pointer hidden) is discarded.
TEST(Cursor, PresentationFeedbackForTheCursorSurface)
{
    // Recorded: the frame each `presented` event names is looked at, not a later screenshot.
    TempDir recording;
    const std::string record_dir = recording.path() + "/rec";
    Compositor compositor({"--output", "640x480", "--record", record_dir});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    CursorClient c;
    connect_and_map(compositor, c);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(c.presentation && c.output);

    std::vector<wl_buffer*> buffers;
    struct Step {
        uint32_t argb;
        Rgb rgb;
    };
    for (Step step : {Step{0xff00ff00, Rgb{0, 255, 0}}, Step{0xffffffff, Rgb{255, 255, 255}}}) {
        Feedback feedback;
        const uint64_t committed_ns = monotonic_ns();
        buffers.push_back(commit_cursor_image(c, step.argb, &feedback));
        ASSERT_TRUE(pump(c, client_timeout, [&] { return feedback.state != Feedback::waiting; }))
            << "no feedback for the cursor surface";
        ASSERT_EQ(feedback.state, Feedback::presented) << "the cursor image's feedback was discarded";
        EXPECT_EQ(feedback.sync_output, c.output);
        EXPECT_GE(feedback.presented_ns, committed_ns);
        EXPECT_LE(feedback.presented_ns, monotonic_ns());
        // Presented means on screen: the frame presented at that time holds it.
        std::string error;
        auto shot = recorded_frame(record_dir, "HEADLESS-1", feedback.presented_ns, &error);
        ASSERT_TRUE(shot) << error;
        EXPECT_TRUE(shot->at(8, 8) == step.rgb) << "presented, but (8,8) is " << int(shot->at(8, 8).r) << ","
                                                << int(shot->at(8, 8).g) << "," << int(shot->at(8, 8).b);
    }

    // The client hides its pointer: a cursor image committed now is never shown, and its
    // feedback is discarded when the next commit replaces it.
    wl_pointer_set_cursor(c.pointer, c.enter_serial, nullptr, 0, 0);
    Feedback hidden;
    buffers.push_back(commit_cursor_image(c, 0xffff00ff, &hidden));
    buffers.push_back(commit_cursor_image(c, 0xff00ffff, nullptr));
    ASSERT_TRUE(pump(c, client_timeout, [&] { return hidden.state != Feedback::waiting; }));
    EXPECT_EQ(hidden.state, Feedback::discarded) << "an image never shown was reported presented";

    for (wl_buffer* b : buffers)
        wl_buffer_destroy(b);
}
