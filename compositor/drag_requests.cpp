#include "drag_requests.hpp"

#include <cstring>

namespace syncway {
namespace {

// The role wlroots gives a drag icon (its wlr_surface_role is not exported).
constexpr const char* drag_icon_role_name = "wl_data_device-icon";

// Whether wlroots' start_drag handler gets as far as asking the seat, given the request's
// arguments: it returns early, allocating nothing, for an inert wl_data_device and for an icon
// surface that cannot take the drag-icon role (a protocol error).
bool reaches_the_seat(const wl_protocol_logger_message& message, wlr_seat* seat)
{
    auto* seat_client = static_cast<wlr_seat_client*>(wl_resource_get_user_data(message.resource));
    if (!seat_client || seat_client->seat != seat)
        return false;
    // start_drag(source, origin, icon, serial): libwayland passes object arguments as the
    // resource's leading wl_object.
    if (message.arguments_count < 3)
        return false;
    auto* icon_resource = reinterpret_cast<wl_resource*>(message.arguments[2].o);
    if (!icon_resource)
        return true;
    wlr_surface* icon = wlr_surface_from_resource(icon_resource);
    if (!icon)
        return false;
    if (icon->role && std::strcmp(icon->role->name, drag_icon_role_name) != 0)
        return false;
    return icon->role_data == nullptr;
}

bool is_start_drag(const wl_protocol_logger_message& message)
{
    const char* name = wl_resource_get_class(message.resource);
    return message.message_opcode == WL_DATA_DEVICE_START_DRAG && name && name[0] == 'w' &&
           std::strcmp(name, wl_data_device_interface.name) == 0;
}

} // namespace

DragRequests::DragRequests(wl_display* display, wlr_seat* seat)
    : seat_(seat), loop_(wl_display_get_event_loop(display))
{
    request_start_drag_.connect(&seat_->events.request_start_drag, [this](void* data) {
        on_request(*static_cast<wlr_seat_request_start_drag_event*>(data));
    });
    logger_ = wl_display_add_protocol_logger(
        display,
        [](void* data, wl_protocol_logger_type type, const wl_protocol_logger_message* message) {
            if (type == WL_PROTOCOL_LOGGER_REQUEST)
                static_cast<DragRequests*>(data)->before_dispatch(*message);
        },
        this);
}

DragRequests::~DragRequests()
{
    if (logger_)
        wl_protocol_logger_destroy(logger_);
    show_hidden_drag();
    request_start_drag_.disconnect();
}

void DragRequests::before_dispatch(const wl_protocol_logger_message& message)
{
    // Whatever the request, a drag hidden for an earlier one is back before it runs.
    show_hidden_drag();
    if (!seat_->drag || !is_start_drag(message) || !reaches_the_seat(message, seat_))
        return;
    // wlroots would drop this request without freeing the drag it makes for it; with no drag
    // in progress it asks us instead (on_request puts the hidden drag back at once).
    hidden_drag_ = seat_->drag;
    seat_->drag = nullptr;
    // Should wlroots still fail before asking (out of memory), the drag in progress is back
    // before the event loop dispatches anything else that could end it.
    if (!show_idle_)
        show_idle_ = wl_event_loop_add_idle(
            loop_,
            [](void* data) {
                auto* self = static_cast<DragRequests*>(data);
                self->show_idle_ = nullptr;  // an idle source is removed once it has run
                self->show_hidden_drag();
            },
            this);
}

void DragRequests::show_hidden_drag()
{
    if (show_idle_) {
        wl_event_source_remove(show_idle_);
        show_idle_ = nullptr;
    }
    if (hidden_drag_) {
        seat_->drag = hidden_drag_;
        hidden_drag_ = nullptr;
    }
}

void DragRequests::on_request(const wlr_seat_request_start_drag_event& event)
{
    if (hidden_drag_) {
        show_hidden_drag();
        wlr_log(WLR_DEBUG, "seat: refusing a drag: another one is in progress");
        refuse(event.drag);
        return;
    }
    if (wlr_seat_validate_pointer_grab_serial(seat_, event.origin, event.serial)) {
        wlr_seat_start_pointer_drag(seat_, event.drag, event.serial);
        return;
    }
    // No touch devices here, so a pointer press is the only thing a drag can start from.
    wlr_log(WLR_DEBUG, "seat: refusing a drag: serial %u is not the press of the pointer's button on its origin",
            event.serial);
    refuse(event.drag);
}

void DragRequests::refuse(wlr_drag* drag)
{
    if (drag->source) {
        // The drag listens to its source and is freed with it.
        wlr_data_source_destroy(drag->source);
        return;
    }
    // Starting a drag changes the seat's drag, drag serial, drag source (destroying the
    // previous one, which may still be serving a drop) and keyboard grab: keep all of them.
    wlr_drag* drag_in_progress = seat_->drag;
    uint32_t drag_serial = seat_->drag_serial;
    wlr_seat_keyboard_grab* keyboard_grab = seat_->keyboard_state.grab;
    wlr_data_source* drag_source = seat_->drag_source;
    if (drag_source) {
        wl_list_remove(&seat_->drag_source_destroy.link);
        seat_->drag_source = nullptr;
    }

    wlr_seat_start_drag(seat_, drag, drag_serial);
    // Cancels the grab the drag just took: wlroots frees the drag and its icon.
    wlr_seat_keyboard_end_grab(seat_);

    seat_->drag = drag_in_progress;
    seat_->drag_serial = drag_serial;
    if (keyboard_grab != seat_->keyboard_state.default_grab)
        wlr_seat_keyboard_start_grab(seat_, keyboard_grab);
    if (drag_source) {
        seat_->drag_source = drag_source;
        wl_signal_add(&drag_source->events.destroy, &seat_->drag_source_destroy);
    }
}

} // namespace syncway
