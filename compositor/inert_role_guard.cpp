#include "inert_role_guard.hpp"

#include <cstring>

namespace syncway {
namespace {

// The role objects wlroots 0.15 leaves without data when their wl_surface goes (their data is
// the wlr_xdg_surface, freed with it).
bool is_xdg_role_object(wl_resource* resource)
{
    const char* name = wl_resource_get_class(resource);
    return name && name[0] == 'x' &&
           (std::strcmp(name, "xdg_toplevel") == 0 || std::strcmp(name, "xdg_popup") == 0 ||
            std::strcmp(name, "xdg_surface") == 0);
}

// Every request of an inert object: destroy destroys it, the rest are ignored.
int dispatch_inert(const void*, void* target, uint32_t, const wl_message* message, wl_argument*)
{
    if (std::strcmp(message->name, "destroy") == 0)
        wl_resource_destroy(static_cast<wl_resource*>(target));
    return 0;
}

} // namespace

InertRoleGuard::InertRoleGuard(wl_display* display)
{
    logger_ = wl_display_add_protocol_logger(
        display,
        [](void*, wl_protocol_logger_type type, const wl_protocol_logger_message* message) {
            // Runs before the request is dispatched, which reads the handlers only afterwards.
            // Cheap for every other request: one pointer test, one character.
            if (type != WL_PROTOCOL_LOGGER_REQUEST || wl_resource_get_user_data(message->resource) ||
                !is_xdg_role_object(message->resource))
                return;
            // No data means wlroots' own destroy handler has nothing to free either.
            wl_resource_set_dispatcher(message->resource, dispatch_inert, nullptr, nullptr, nullptr);
        },
        nullptr);
}

InertRoleGuard::~InertRoleGuard()
{
    if (logger_)
        wl_protocol_logger_destroy(logger_);
}

} // namespace syncway
