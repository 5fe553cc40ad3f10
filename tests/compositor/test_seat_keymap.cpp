// Toolkits such as GTK insist on a wl_keyboard with a keymap; the headless seat has no
// keyboard device, so syncway's default keyboard must provide one.
#include "compositor_fixture.hpp"

#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include <gtest/gtest.h>

#include <string_view>

using namespace syncway::test;

namespace {

struct KeymapProbe {
    wl_seat* seat = nullptr;
    wl_keyboard* keyboard = nullptr;
    uint32_t capabilities = 0;
    uint32_t format = 0;
    std::string keymap;
};

const wl_keyboard_listener keyboard_listener = {
    .keymap =
        [](void* data, wl_keyboard*, uint32_t format, int32_t fd, uint32_t size) {
            auto* probe = static_cast<KeymapProbe*>(data);
            probe->format = format;
            void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (map != MAP_FAILED) {
                probe->keymap.assign(static_cast<const char*>(map), strnlen(static_cast<const char*>(map), size));
                munmap(map, size);
            }
            close(fd);
        },
    .enter = [](void*, wl_keyboard*, uint32_t, wl_surface*, wl_array*) {},
    .leave = [](void*, wl_keyboard*, uint32_t, wl_surface*) {},
    .key = [](void*, wl_keyboard*, uint32_t, uint32_t, uint32_t, uint32_t) {},
    .modifiers = [](void*, wl_keyboard*, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) {},
    .repeat_info = [](void*, wl_keyboard*, int32_t, int32_t) {},
};

const wl_seat_listener seat_listener = {
    .capabilities =
        [](void* data, wl_seat* seat, uint32_t caps) {
            auto* probe = static_cast<KeymapProbe*>(data);
            probe->capabilities = caps;
            if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && !probe->keyboard) {
                probe->keyboard = wl_seat_get_keyboard(seat);
                wl_keyboard_add_listener(probe->keyboard, &keyboard_listener, probe);
            }
        },
    .name = [](void*, wl_seat*, const char*) {},
};

const wl_registry_listener registry_listener = {
    .global =
        [](void* data, wl_registry* registry, uint32_t name, const char* interface, uint32_t) {
            auto* probe = static_cast<KeymapProbe*>(data);
            if (std::string_view(interface) == wl_seat_interface.name && !probe->seat) {
                probe->seat = static_cast<wl_seat*>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
                wl_seat_add_listener(probe->seat, &seat_listener, probe);
            }
        },
    .global_remove = [](void*, wl_registry*, uint32_t) {},
};

} // namespace

TEST(Seat, KeyboardWithDefaultKeymapWithoutDevices)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    std::string path = compositor.runtime_dir() + "/" + compositor.socket();
    wl_display* display = wl_display_connect(path.c_str());  // absolute paths are accepted
    ASSERT_NE(display, nullptr);
    KeymapProbe probe;
    wl_registry* registry = wl_display_get_registry(display);
    wl_registry_add_listener(registry, &registry_listener, &probe);
    for (int i = 0; i < 4 && probe.keymap.empty(); ++i)
        ASSERT_GE(wl_display_roundtrip(display), 0);

    EXPECT_NE(probe.seat, nullptr);
    EXPECT_TRUE(probe.capabilities & WL_SEAT_CAPABILITY_POINTER);
    EXPECT_TRUE(probe.capabilities & WL_SEAT_CAPABILITY_KEYBOARD);
    EXPECT_EQ(probe.format, uint32_t(WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1));
    EXPECT_NE(probe.keymap.find("xkb_keymap"), std::string::npos) << probe.keymap.substr(0, 200);

    if (probe.keyboard)
        wl_keyboard_release(probe.keyboard);
    if (probe.seat)
        wl_seat_release(probe.seat);
    wl_registry_destroy(registry);
    wl_display_disconnect(display);
}
