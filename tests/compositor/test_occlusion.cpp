// Only what can be seen is composited: a window entirely behind opaque windows is not sampled
// by the renderer (its commits are never "presented"), gets no frame callbacks while covered,
// and shows its latest content the moment it is uncovered. Opaque formats and opaque regions
// decide what covers; a translucent window covers nothing.
#include "compositor_fixture.hpp"

#include "presentation-time-client-protocol.h"

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/dispatch.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

using namespace syncway::test;
using syncway::testing::DispatchResult;
using syncway::testing::dispatch_until;

namespace {

constexpr uint32_t red = 0xffff0000, green = 0xff00ff00, blue = 0xff0000ff;

enum class Feedback { pending, presented, discarded };

// One client connection with two windows; the one mapped last is on top.
class Client {
public:
    explicit Client(const std::string& socket_path)
    {
        display_ = wl_display_connect(socket_path.c_str());
        if (!display_)
            return;
        registry_ = wl_display_get_registry(display_);
        static const wl_registry_listener listener{
            [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
                auto* self = static_cast<Client*>(data);
                if (self->globals_->bind(registry, name, interface))
                    return;
                if (std::strcmp(interface, wp_presentation_interface.name) == 0)
                    self->presentation_ = static_cast<wp_presentation*>(
                        wl_registry_bind(registry, name, &wp_presentation_interface, 1));
            },
            [](void*, wl_registry*, uint32_t) {},
        };
        wl_registry_add_listener(registry_, &listener, this);
        wl_display_roundtrip(display_);
    }
    ~Client()
    {
        for (auto& f : feedbacks_)
            if (f->proxy)
                wp_presentation_feedback_destroy(f->proxy);
        windows_[0].reset();
        windows_[1].reset();
        if (presentation_)
            wp_presentation_destroy(presentation_);
        if (registry_)
            wl_registry_destroy(registry_);
        globals_.reset();  // proxies go before their connection
        if (display_) {
            wl_display_flush(display_);
            wl_display_disconnect(display_);
        }
    }
    bool ready() const { return display_ && globals_->complete() && presentation_; }

    // Maps window `index` with a first buffer of `pixel` in `format`, of the configured size
    // unless one is given (a window smaller than the output covers only part of what is below).
    ::testing::AssertionResult map(int index, uint32_t pixel, uint32_t format = WL_SHM_FORMAT_XRGB8888,
                                   int32_t buffer_width = 0, int32_t buffer_height = 0)
    {
        auto& w = windows_[index];
        w = std::make_unique<Window>();
        w->toplevel = std::make_unique<syncway::testing::Toplevel>(globals_->compositor, globals_->wm_base,
                                                                   index == 0 ? "below" : "above");
        if (dispatch_until(display_, [&] { return w->toplevel->configured(); }, 10s) != DispatchResult::done)
            return ::testing::AssertionFailure() << "window " << index << " was never configured";
        int32_t width = buffer_width > 0 ? buffer_width : w->toplevel->width() > 0 ? w->toplevel->width() : 1920;
        int32_t height = buffer_height > 0 ? buffer_height : w->toplevel->height() > 0 ? w->toplevel->height() : 1080;
        auto buffers = syncway::testing::ShmBuffers::create(globals_->shm, width, height, 4, pixel, format);
        if (!buffers)
            return ::testing::AssertionFailure() << "shm buffers: " << buffers.error().message;
        w->buffers.emplace(std::move(*buffers));
        return commit(index, pixel);
    }

    // Sets an opaque region covering all of window `index` (applies with its next commit).
    void set_fully_opaque(int index)
    {
        wl_region* region = wl_compositor_create_region(globals_->compositor);
        wl_region_add(region, 0, 0, INT32_MAX, INT32_MAX);
        wl_surface_set_opaque_region(windows_[index]->toplevel->surface(), region);
        wl_region_destroy(region);
    }

    // Commits the next buffer of window `index`, filled with `pixel`, with full damage and a
    // presentation feedback whose fate goes to *feedback (if given).
    ::testing::AssertionResult commit(int index, uint32_t pixel, Feedback* feedback = nullptr)
    {
        auto& w = *windows_[index];
        int slot = w.next++ % w.buffers->count();
        w.buffers->fill(slot, pixel);
        return attach_and_commit(index, slot, feedback, 0, 0, INT32_MAX, INT32_MAX);
    }

    struct Rect {
        int32_t x, y, width, height;
    };
    // Commits the next buffer of window `index`: `base` everywhere but `patch` in `painted`, of
    // which only `damaged` changed since the last commit (only that is damaged).
    ::testing::AssertionResult commit_patch(int index, uint32_t base, uint32_t patch, Rect painted, Rect damaged,
                                            Feedback* feedback = nullptr)
    {
        auto& w = *windows_[index];
        int slot = w.next++ % w.buffers->count();
        w.buffers->fill(slot, base);
        uint32_t* pixels = w.buffers->pixels(slot);
        for (int32_t row = painted.y; row < painted.y + painted.height && row < w.buffers->height(); ++row)
            for (int32_t col = painted.x; col < painted.x + painted.width && col < w.buffers->width(); ++col)
                pixels[size_t(row) * size_t(w.buffers->width()) + size_t(col)] = patch;
        return attach_and_commit(index, slot, feedback, damaged.x, damaged.y, damaged.width, damaged.height);
    }

    ::testing::AssertionResult attach_and_commit(int index, int slot, Feedback* feedback, int32_t x, int32_t y,
                                                 int32_t width, int32_t height)
    {
        auto& w = *windows_[index];
        wl_surface* surface = w.toplevel->surface();
        if (feedback) {
            *feedback = Feedback::pending;
            // A feedback that is still pending when the client goes is destroyed with it.
            auto& f = feedbacks_.emplace_back(std::make_unique<PendingFeedback>());
            f->out = feedback;
            f->proxy = wp_presentation_feedback(presentation_, surface);
            static const wp_presentation_feedback_listener listener{
                [](void*, struct wp_presentation_feedback*, wl_output*) {},
                [](void* data, struct wp_presentation_feedback*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t,
                   uint32_t, uint32_t) { static_cast<PendingFeedback*>(data)->settle(Feedback::presented); },
                [](void* data, struct wp_presentation_feedback*) {
                    static_cast<PendingFeedback*>(data)->settle(Feedback::discarded);
                },
            };
            wp_presentation_feedback_add_listener(f->proxy, &listener, f.get());
        }
        wl_surface_attach(surface, w.buffers->get(slot), 0, 0);
        wl_surface_damage_buffer(surface, x, y, width, height);
        wl_surface_commit(surface);
        if (wl_display_flush(display_) < 0)
            return ::testing::AssertionFailure() << "connection lost";
        return ::testing::AssertionSuccess();
    }

    // Requests a frame callback on window `index` (with an empty commit); *done turns true.
    void request_frame(int index, bool* done)
    {
        *done = false;
        static const wl_callback_listener listener{[](void* data, wl_callback* cb, uint32_t) {
            *static_cast<bool*>(data) = true;
            wl_callback_destroy(cb);
        }};
        wl_callback_add_listener(wl_surface_frame(windows_[index]->toplevel->surface()), &listener, done);
        wl_surface_commit(windows_[index]->toplevel->surface());
        wl_display_flush(display_);
    }

    void unmap(int index)
    {
        windows_[index].reset();
        wl_display_flush(display_);
    }

    DispatchResult until(const std::function<bool()>& done, std::chrono::milliseconds timeout)
    {
        return dispatch_until(display_, done, timeout);
    }

private:
    struct PendingFeedback {
        Feedback* out = nullptr;
        struct wp_presentation_feedback* proxy = nullptr;
        void settle(Feedback fate)
        {
            *out = fate;
            wp_presentation_feedback_destroy(proxy);
            proxy = nullptr;
        }
    };
    struct Window {
        std::unique_ptr<syncway::testing::Toplevel> toplevel;
        std::optional<syncway::testing::ShmBuffers> buffers;
        int next = 0;
        ~Window()
        {
            buffers.reset();
            toplevel.reset();
        }
    };
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    std::unique_ptr<syncway::testing::CoreGlobals> globals_ = std::make_unique<syncway::testing::CoreGlobals>();
    wp_presentation* presentation_ = nullptr;
    std::unique_ptr<Window> windows_[2];
    std::vector<std::unique_ptr<PendingFeedback>> feedbacks_;
};

bool shows(const Image& image, Rgb rgb) { return image.at(960, 540) == rgb; }

// Starts syncway, maps "below" (red) and then "above" (format and colour given) over it, and
// waits until "above" is on screen.
struct Stack {
    Compositor compositor;
    std::unique_ptr<Client> client;

    ::testing::AssertionResult start(uint32_t above_format, bool above_opaque_region, Rgb above_on_screen)
    {
        if (!compositor.wait_ready())
            return ::testing::AssertionFailure() << compositor.process().output();
        client = std::make_unique<Client>(compositor.runtime_dir() + "/" + compositor.socket());
        if (!client->ready())
            return ::testing::AssertionFailure() << "client could not connect or bind";
        if (auto r = client->map(0, red); !r)
            return r;
        if (!compositor.wait_for_screenshot([](const Image& i) { return shows(i, {255, 0, 0}); }))
            return ::testing::AssertionFailure() << "the first window never showed";
        if (auto r = client->map(1, blue, above_format); !r)
            return r;
        if (above_opaque_region) {
            client->set_fully_opaque(1);
            if (auto r = client->commit(1, blue); !r)
                return r;
        }
        if (!compositor.wait_for_screenshot([&](const Image& i) { return shows(i, above_on_screen); }))
            return ::testing::AssertionFailure() << "the second window never showed";
        return ::testing::AssertionSuccess();
    }

    // Commits `pixel` to the window below with feedback, then a frame of the one above (so an
    // output frame certainly happens after it), then another commit below, which settles the
    // first commit's feedback for good: presented if it was composited, else discarded.
    // Feedback states live here: their listeners write to them whenever the events arrive.
    Feedback below = Feedback::pending, above = Feedback::pending, later = Feedback::pending;

    Feedback fate_of_commit_below(uint32_t pixel)
    {
        EXPECT_TRUE(client->commit(0, pixel, &below));
        EXPECT_TRUE(client->commit(1, blue, &above));
        EXPECT_EQ(client->until([&] { return above != Feedback::pending; }, 10s), DispatchResult::done);
        EXPECT_TRUE(client->commit(0, pixel, &later));
        client->until([&] { return below != Feedback::pending; }, 3s);
        return below;
    }
};

} // namespace

TEST(Occlusion, CoveredWindowIsNotCompositedAndShowsItsLatestContentWhenUncovered)
{
    Stack s;
    ASSERT_TRUE(s.start(WL_SHM_FORMAT_XRGB8888, false, {0, 0, 255}));
    // XRGB: the window above is opaque, so the one below is hidden and its commit never reaches
    // the renderer.
    EXPECT_EQ(s.fate_of_commit_below(green), Feedback::discarded)
        << "a commit of a fully covered window was composited";
    // While covered, its frame callbacks wait (they are throttled, as in wlroots 0.18's scene).
    bool frame = false;
    s.client->request_frame(0, &frame);
    EXPECT_EQ(s.client->until([&] { return frame; }, 500ms), DispatchResult::timed_out)
        << "a covered window got a frame callback";
    // Uncovered: its latest content (green) is on screen at once, and its frame callback comes.
    s.client->unmap(1);
    auto shot = s.compositor.wait_for_screenshot([](const Image& i) { return shows(i, {0, 255, 0}); }, 5s);
    EXPECT_TRUE(shot && shows(*shot, {0, 255, 0})) << "the uncovered window does not show its latest content";
    EXPECT_EQ(s.client->until([&] { return frame; }, 5s), DispatchResult::done)
        << "the uncovered window never got its frame callback";
    ASSERT_TRUE(s.client->commit(0, red, &s.later));
    EXPECT_EQ(s.client->until([&] { return s.later != Feedback::pending; }, 5s), DispatchResult::done);
    EXPECT_EQ(s.later, Feedback::presented) << "the uncovered window's commits are not presented";
}

TEST(Occlusion, TranslucentWindowCoversNothing)
{
    Stack s;
    // ARGB with an alpha of 0xff in every pixel, but no opaque region: the compositor cannot
    // know it is opaque, so the window below stays composited.
    ASSERT_TRUE(s.start(WL_SHM_FORMAT_ARGB8888, false, {0, 0, 255}));
    EXPECT_EQ(s.fate_of_commit_below(green), Feedback::presented)
        << "a window under a translucent one was treated as covered";
}

TEST(Occlusion, OpaqueRegionCovers)
{
    Stack s;
    // ARGB with an opaque region over all of it: as opaque as XRGB.
    ASSERT_TRUE(s.start(WL_SHM_FORMAT_ARGB8888, true, {0, 0, 255}));
    EXPECT_EQ(s.fate_of_commit_below(green), Feedback::discarded)
        << "a window under an opaque region was composited";
}

TEST(Occlusion, ChangeUnderAnOpaqueWindowRendersNothingAndShowsWhenUncovered)
{
    Stack s;
    // Below: red, the whole output. Above: blue XRGB, 400x300 at the output's corner.
    ASSERT_TRUE(s.compositor.wait_ready()) << s.compositor.process().output();
    s.client = std::make_unique<Client>(s.compositor.runtime_dir() + "/" + s.compositor.socket());
    ASSERT_TRUE(s.client->ready());
    ASSERT_TRUE(s.client->map(0, red));
    ASSERT_TRUE(s.compositor.wait_for_screenshot([](const Image& i) { return shows(i, {255, 0, 0}); }));
    ASSERT_TRUE(s.client->map(1, blue, WL_SHM_FORMAT_XRGB8888, 400, 300));
    ASSERT_TRUE(s.compositor.wait_for_screenshot(
        [](const Image& i) { return i.at(200, 150) == Rgb{0, 0, 255} && shows(i, {255, 0, 0}); }));

    // The window below changes a rectangle that lies entirely under the one above. Nothing on
    // screen changes, so no frame may be rendered for it: its presentation feedback stays
    // pending (wlroots reports every surface a rendered frame shows as presented, and the
    // window below shows around the one above).
    Feedback hidden = Feedback::pending;
    ASSERT_TRUE(s.client->commit_patch(0, red, green, {100, 100, 200, 100}, {100, 100, 200, 100}, &hidden));
    s.client->until([&] { return hidden != Feedback::pending; }, 1500ms);
    EXPECT_EQ(hidden, Feedback::pending) << "a change hidden under an opaque window was rendered";

    // A change that shows in part (x 300..500 crosses the edge of the window above at 400) is
    // rendered, and only its visible part needs to be. The buffer keeps the earlier patch.
    Feedback partly = Feedback::pending;
    ASSERT_TRUE(s.client->commit_patch(0, red, green, {100, 100, 400, 100}, {300, 100, 200, 100}, &partly));
    EXPECT_EQ(s.client->until([&] { return partly != Feedback::pending; }, 10s), DispatchResult::done);
    EXPECT_EQ(partly, Feedback::presented) << "a change that shows in part was not presented";
    EXPECT_EQ(hidden, Feedback::discarded) << "the hidden change's feedback was not discarded once replaced";

    // Uncovered: the latest content is on screen at once (the green patch 100..500 x 100..200).
    s.client->unmap(1);
    auto shot = s.compositor.wait_for_screenshot(
        [](const Image& i) { return i.at(150, 150) == Rgb{0, 255, 0} && i.at(50, 50) == Rgb{255, 0, 0}; }, 5s);
    ASSERT_TRUE(shot);
    EXPECT_EQ(shot->at(150, 150), (Rgb{0, 255, 0})) << "the uncovered part does not show the latest content";
    EXPECT_EQ(shot->at(450, 150), (Rgb{0, 255, 0}));
    EXPECT_EQ(shot->at(50, 50), (Rgb{255, 0, 0}));
    EXPECT_EQ(shot->at(600, 150), (Rgb{255, 0, 0}));
}
