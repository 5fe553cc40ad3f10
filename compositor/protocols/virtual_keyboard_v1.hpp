// zwp_virtual_keyboard_manager_v1: keyboards made by clients, with their own keymap, added to
// the seat like real ones.
#pragma once

#include "../listener.hpp"
#include "../wlr.hpp"

#include <list>
#include <vector>

namespace syncway {

class Server;

class VirtualKeyboardV1 {
public:
    explicit VirtualKeyboardV1(Server& server);
    ~VirtualKeyboardV1();
    VirtualKeyboardV1(const VirtualKeyboardV1&) = delete;
    VirtualKeyboardV1& operator=(const VirtualKeyboardV1&) = delete;

private:
    // wlroots 0.15 allocates each virtual keyboard's wlr_keyboard apart from it and never frees
    // it (its keyboard implementation's destroy does nothing): 352 bytes per keyboard a client
    // creates and destroys, as often as it likes. We free it once wlroots is done with it.
    struct Tracked {
        wlr_keyboard* keyboard = nullptr;
        Listener device_destroy;
        bool gone = false;
    };
    static void free_gone(void* data);

    Server& server_;
    Listener new_keyboard_;
    std::list<Tracked> keyboards_;
    wl_event_source* idle_ = nullptr;
};

} // namespace syncway
