// zwp_virtual_keyboard_manager_v1: keyboards made by clients, with their own keymap, added to
// the seat like real ones.
#pragma once

#include "../listener.hpp"

namespace syncway {

class Server;

class VirtualKeyboardV1 {
public:
    explicit VirtualKeyboardV1(Server& server);

private:
    Listener new_keyboard_;
};

} // namespace syncway
