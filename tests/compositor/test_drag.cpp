// Drag-and-drop requests: a drag starts from the press that began it, and the requests the
// compositor refuses (a serial that is no press, a drag already in progress; with or without a
// data source or an icon) cost it nothing, however many a client sends.
#include "compositor_fixture.hpp"

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/dispatch.hpp>
#include <syncway/testing/shm_buffers.hpp>
#include <syncway/testing/toplevel.hpp>
#include <syncway/testing/virtual_pointer.hpp>

#include <linux/input-event-codes.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>
#include <vector>

using namespace syncway::test;
using syncway::testing::dispatch_until;
using syncway::testing::DispatchResult;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

// The compositor's resident memory in KiB (VmRSS), or -1.
long resident_kib(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            long kib = -1;
            status >> kib;
            return kib;
        }
        status.ignore(1 << 16, '\n');
    }
    return -1;
}

long open_fds(pid_t pid)
{
    long n = 0;
    for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
        ++n;
    return n;
}

struct DragClient {
    wl_display* display = nullptr;
    wl_registry* registry = nullptr;
    std::unique_ptr<syncway::testing::CoreGlobals> core = std::make_unique<syncway::testing::CoreGlobals>();
    wl_seat* seat = nullptr;
    wl_data_device_manager* data_manager = nullptr;
    wl_proxy* pointer_manager = nullptr;
    wl_pointer* pointer = nullptr;
    wl_data_device* data_device = nullptr;
    std::unique_ptr<syncway::testing::VirtualPointer> virtual_pointer;
    std::unique_ptr<syncway::testing::Toplevel> window;
    wl_buffer* buffer = nullptr;

    bool pointer_inside = false;
    uint32_t press_serial = 0;
    bool pressed = false;
    int drag_enters = 0, drag_leaves = 0, drag_motions = 0, offers = 0;
    int cancelled = 0;
    std::vector<wl_data_offer*> drag_offers;

    ~DragClient()
    {
        for (wl_data_offer* offer : drag_offers)
            wl_data_offer_destroy(offer);
        if (buffer)
            wl_buffer_destroy(buffer);
        window.reset();
        virtual_pointer.reset();
        if (data_device)
            wl_data_device_release(data_device);
        if (pointer)
            wl_pointer_release(pointer);
        if (pointer_manager)
            syncway::testing::destroy_virtual_pointer_manager(pointer_manager);
        if (data_manager)
            wl_data_device_manager_destroy(data_manager);
        if (seat)
            wl_seat_release(seat);
        core.reset();
        if (registry)
            wl_registry_destroy(registry);
        if (display)
            wl_display_disconnect(display);
    }

    bool pump(const std::function<bool()>& done)
    {
        return dispatch_until(display, done, client_timeout) == DispatchResult::done;
    }
    // Every request so far has been handled.
    bool sync()
    {
        bool synced = false;
        wl_callback* callback = wl_display_sync(display);
        static const wl_callback_listener listener = {
            [](void* data, wl_callback*, uint32_t) { *static_cast<bool*>(data) = true; }};
        wl_callback_add_listener(callback, &listener, &synced);
        bool ok = pump([&] { return synced; });
        wl_callback_destroy(callback);
        return ok;
    }
};

const wl_registry_listener drag_registry_listener = {
    [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
        auto* c = static_cast<DragClient*>(data);
        std::string_view iface(interface);
        if (c->core->bind(registry, name, iface))
            return;
        if (iface == wl_seat_interface.name)
            c->seat = static_cast<wl_seat*>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
        else if (iface == wl_data_device_manager_interface.name)
            c->data_manager = static_cast<wl_data_device_manager*>(
                wl_registry_bind(registry, name, &wl_data_device_manager_interface, 3));
        else if (iface == syncway::testing::virtual_pointer_manager_interface.name)
            c->pointer_manager = syncway::testing::bind_virtual_pointer_manager(registry, name);
    },
    [](void*, wl_registry*, uint32_t) {}};

const wl_pointer_listener drag_pointer_listener = {
    .enter = [](void* data, wl_pointer*, uint32_t, wl_surface*, wl_fixed_t,
                wl_fixed_t) { static_cast<DragClient*>(data)->pointer_inside = true; },
    .leave = [](void* data, wl_pointer*, uint32_t, wl_surface*) { static_cast<DragClient*>(data)->pointer_inside = false; },
    .motion = [](void*, wl_pointer*, uint32_t, wl_fixed_t, wl_fixed_t) {},
    .button =
        [](void* data, wl_pointer*, uint32_t serial, uint32_t, uint32_t, uint32_t state) {
            auto* c = static_cast<DragClient*>(data);
            c->pressed = state == WL_POINTER_BUTTON_STATE_PRESSED;
            if (c->pressed)
                c->press_serial = serial;
        },
    .axis = [](void*, wl_pointer*, uint32_t, uint32_t, wl_fixed_t) {},
    .frame = [](void*, wl_pointer*) {},
    .axis_source = [](void*, wl_pointer*, uint32_t) {},
    .axis_stop = [](void*, wl_pointer*, uint32_t, uint32_t) {},
    .axis_discrete = [](void*, wl_pointer*, uint32_t, int32_t) {},
};

const wl_data_offer_listener offer_listener = {
    .offer = [](void*, wl_data_offer*, const char*) {},
    .source_actions = [](void*, wl_data_offer*, uint32_t) {},
    .action = [](void*, wl_data_offer*, uint32_t) {},
};

const wl_data_device_listener data_device_listener = {
    .data_offer =
        [](void* data, wl_data_device*, wl_data_offer* offer) {
            auto* c = static_cast<DragClient*>(data);
            ++c->offers;
            c->drag_offers.push_back(offer);
            wl_data_offer_add_listener(offer, &offer_listener, nullptr);
        },
    .enter = [](void* data, wl_data_device*, uint32_t, wl_surface*, wl_fixed_t, wl_fixed_t,
                wl_data_offer*) { ++static_cast<DragClient*>(data)->drag_enters; },
    .leave = [](void* data, wl_data_device*) { ++static_cast<DragClient*>(data)->drag_leaves; },
    .motion = [](void* data, wl_data_device*, uint32_t, wl_fixed_t,
                 wl_fixed_t) { ++static_cast<DragClient*>(data)->drag_motions; },
    .drop = [](void*, wl_data_device*) {},
    .selection = [](void*, wl_data_device*, wl_data_offer*) {},  // the offer is in drag_offers
};

const wl_data_source_listener source_listener = {
    .target = [](void*, wl_data_source*, const char*) {},
    .send = [](void*, wl_data_source*, const char*, int32_t fd) { close(fd); },
    .cancelled =
        [](void* data, wl_data_source* source) {
            ++static_cast<DragClient*>(data)->cancelled;
            wl_data_source_destroy(source);
        },
    .dnd_drop_performed = [](void*, wl_data_source*) {},
    .dnd_finished = [](void*, wl_data_source*) {},
    .action = [](void*, wl_data_source*, uint32_t) {},
};

wl_data_source* text_source(DragClient& c)
{
    wl_data_source* source = wl_data_device_manager_create_data_source(c.data_manager);
    wl_data_source_add_listener(source, &source_listener, &c);
    wl_data_source_offer(source, "text/plain");
    wl_data_source_set_actions(source, WL_DATA_DEVICE_MANAGER_DND_ACTION_COPY);
    return source;
}

constexpr uint32_t width = 320, height = 240;

// Refused start_drag requests, `rounds` x (one sourceless, one with an icon, one with a data
// source), all with a serial that is no press of the pointer's button.
void send_refused_drags(DragClient& c, wl_surface* icon, int rounds, uint32_t bad_serial)
{
    for (int i = 0; i < rounds; ++i) {
        wl_data_device_start_drag(c.data_device, nullptr, c.window->surface(), nullptr, bad_serial);
        wl_data_device_start_drag(c.data_device, nullptr, c.window->surface(), icon, bad_serial);
        wl_data_device_start_drag(c.data_device, text_source(c), c.window->surface(), nullptr, bad_serial);
        if (i % 100 == 99) {
            ASSERT_TRUE(c.sync());
        }
    }
    ASSERT_TRUE(c.sync());
}

} // namespace

TEST(Drag, RefusedStartDragsCostNothingAndAPressStartsOne)
{
    Compositor compositor({"--output", std::to_string(width) + "x" + std::to_string(height)});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    const pid_t pid = compositor.process().pid();

    DragClient c;
    std::string path = compositor.runtime_dir() + "/" + compositor.socket();
    c.display = wl_display_connect(path.c_str());
    ASSERT_NE(c.display, nullptr);
    c.registry = wl_display_get_registry(c.display);
    wl_registry_add_listener(c.registry, &drag_registry_listener, &c);
    ASSERT_GE(wl_display_roundtrip(c.display), 0);
    ASSERT_TRUE(c.core->complete() && c.seat && c.data_manager && c.pointer_manager);
    c.pointer = wl_seat_get_pointer(c.seat);
    wl_pointer_add_listener(c.pointer, &drag_pointer_listener, &c);
    c.data_device = wl_data_device_manager_get_data_device(c.data_manager, c.seat);
    wl_data_device_add_listener(c.data_device, &data_device_listener, &c);
    c.virtual_pointer = std::make_unique<syncway::testing::VirtualPointer>(c.pointer_manager, c.seat);

    c.window = std::make_unique<syncway::testing::Toplevel>(c.core->compositor, c.core->wm_base, nullptr);
    ASSERT_TRUE(c.pump([&] { return c.window->configured(); }));
    const int w = std::max(c.window->width(), 1), h = std::max(c.window->height(), 1);
    c.buffer = syncway::testing::solid_shm_buffer(c.core->shm, w, h, 0xff3060a0);
    wl_surface_attach(c.window->surface(), c.buffer, 0, 0);
    wl_surface_damage(c.window->surface(), 0, 0, w, h);
    wl_surface_commit(c.window->surface());
    c.virtual_pointer->move_to(width / 2, height / 2, width, height);
    ASSERT_TRUE(c.pump([&] { return c.pointer_inside; })) << "the pointer never entered the window";
    wl_surface* icon = wl_compositor_create_surface(c.core->compositor);

    // Warm up (the allocator's pools, wlroots' first drag), then measure.
    send_refused_drags(c, icon, 300, 12345);
    ASSERT_TRUE(compositor.process().running()) << compositor.process().output();
    const long rss_before = resident_kib(pid), fds_before = open_fds(pid);

    // 1. No drag in progress, serial of nothing. Each refused drag with a source is cancelled.
    constexpr int rounds = 3000;
    const int cancelled_before = c.cancelled;
    send_refused_drags(c, icon, rounds, 12345);
    ASSERT_TRUE(c.pump([&] { return c.cancelled - cancelled_before == rounds; }))
        << (c.cancelled - cancelled_before) << " of " << rounds << " refused data sources cancelled";
    EXPECT_EQ(c.drag_enters, 0) << "a drag started without a press";

    // 2. A press on the window starts a drag; the window gets the drag's offer when the
    //    pointer moves.
    c.virtual_pointer->button(BTN_LEFT, true);
    ASSERT_TRUE(c.pump([&] { return c.pressed; }));
    wl_data_device_start_drag(c.data_device, text_source(c), c.window->surface(), nullptr, c.press_serial);
    c.virtual_pointer->move_to(width / 2 + 10, height / 2, width, height);
    ASSERT_TRUE(c.pump([&] { return c.drag_enters == 1 && c.offers > 0; }))
        << "no wl_data_device.enter after a start_drag with the press's serial";

    // 3. While it is in progress, more start_drags (the press's serial too) are refused...
    send_refused_drags(c, icon, rounds, c.press_serial);
    ASSERT_TRUE(c.pump([&] { return c.cancelled - cancelled_before == 2 * rounds; }))
        << (c.cancelled - cancelled_before) << " of " << 2 * rounds << " refused data sources cancelled";
    EXPECT_EQ(c.drag_enters, 1);
    // ...and the drag goes on: motion reaches the window, the release ends it (its source,
    // never accepted, is cancelled).
    c.virtual_pointer->move_to(width / 2 + 20, height / 2, width, height);
    ASSERT_TRUE(c.pump([&] { return c.drag_motions > 0; })) << "the drag in progress stopped";
    c.virtual_pointer->button(BTN_LEFT, false);
    ASSERT_TRUE(c.pump([&] { return c.drag_leaves == 1 && c.cancelled - cancelled_before == 2 * rounds + 1; }))
        << "the release did not end the drag";

    // 4. And a drag starts again from the next press (the pointer back in the window first:
    //    a drag takes the pointer's focus away).
    c.virtual_pointer->move_to(width / 2, height / 2 + 10, width, height);
    ASSERT_TRUE(c.pump([&] { return c.pointer_inside; })) << "the pointer did not come back after the drag";
    c.pressed = false;
    c.virtual_pointer->button(BTN_LEFT, true);
    ASSERT_TRUE(c.pump([&] { return c.pressed; }));
    wl_data_device_start_drag(c.data_device, text_source(c), c.window->surface(), icon, c.press_serial);
    c.virtual_pointer->move_to(width / 2, height / 2, width, height);
    ASSERT_TRUE(c.pump([&] { return c.drag_enters == 2; })) << "no second drag";
    c.virtual_pointer->button(BTN_LEFT, false);
    ASSERT_TRUE(c.sync());

    ASSERT_TRUE(compositor.process().running()) << compositor.process().output();
    const long rss_after = resident_kib(pid), fds_after = open_fds(pid);
    EXPECT_EQ(fds_after, fds_before);
    // 4 * 3000 leaked wlr_drags would be 3.3 MiB; the sanitizer's quarantine of freed memory
    // makes resident memory meaningless there, and its leak check at exit judges instead.
    if (!sanitized) {
        EXPECT_LT(rss_after - rss_before, 1024) << "resident memory grew from " << rss_before << " KiB to "
                                                << rss_after << " KiB over " << 6 * rounds << " refused drags";
    }

    wl_surface_destroy(icon);
    c.sync();
    compositor.process().signal(SIGTERM);
    ASSERT_TRUE(compositor.process().wait(startup_timeout)) << compositor.process().output();
    EXPECT_EQ(compositor.process().exit_code(), 0) << compositor.process().output();
}
