// zwlr_virtual_pointer_manager_v1: pointers made by clients (tests and automation drive the
// seat through them), added to the seat like real ones.
#pragma once

#include "../listener.hpp"

namespace syncway {

class Server;

class VirtualPointerV1 {
public:
    explicit VirtualPointerV1(Server& server);

private:
    Listener new_pointer_;
};

} // namespace syncway
