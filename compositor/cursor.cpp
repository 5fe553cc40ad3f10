#include "cursor.hpp"

#include "seat.hpp"
#include "server.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace syncway {
namespace {

uint32_t now_msec()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint32_t>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

constexpr const char* default_cursor_name = "left_ptr";

// wlroots 0.15 marks an output cursor as the hardware one even when it only ever put "no
// image" on the plane (its image then failing to render): only a front buffer proves the
// plane shows wlroots' cursor.
bool wlroots_drives_plane(const wlr_output* output) { return output->hardware_cursor && output->cursor_front_buffer; }

} // namespace

Cursor::Cursor(Server& server, Seat& seat)
    : server_(server), seat_(seat),
      presentation_(server.presentation, [this](wlr_output* output) { return client_surface_on(output); })
{
    cursor_.reset(wlr_cursor_create());
    wlr_cursor_attach_output_layout(cursor_.get(), server_.output_layout.get());

    // XCURSOR_THEME/XCURSOR_SIZE as every toolkit reads them; wlroots falls back to a built-in
    // image when the theme has no cursors at all.
    const std::string& theme_name = server_.env.xcursor_theme;
    const char* theme = theme_name.empty() ? nullptr : theme_name.c_str();
    xcursor_.reset(wlr_xcursor_manager_create(theme, server_.env.xcursor_size));
    if (!xcursor_ || !wlr_xcursor_manager_load(xcursor_.get(), 1))
        wlr_log(WLR_ERROR, "cursor: could not load the xcursor theme '%s'", theme ? theme : "default");
    else if (!wlr_xcursor_manager_get_xcursor(xcursor_.get(), default_cursor_name, 1))
        wlr_log(WLR_ERROR, "cursor: theme '%s' has no '%s' cursor", theme ? theme : "default",
                default_cursor_name);

    motion_.connect(&cursor_->events.motion, [this](void* data) {
        auto* event = static_cast<wlr_event_pointer_motion*>(data);
        wlr_cursor_move(cursor_.get(), event->device, event->delta_x, event->delta_y);
        process_motion(event->time_msec);
    });
    motion_absolute_.connect(&cursor_->events.motion_absolute, [this](void* data) {
        auto* event = static_cast<wlr_event_pointer_motion_absolute*>(data);
        wlr_cursor_warp_absolute(cursor_.get(), event->device, event->x, event->y);
        process_motion(event->time_msec);
    });
    button_.connect(&cursor_->events.button, [this](void* data) {
        auto* event = static_cast<wlr_event_pointer_button*>(data);
        wlr_seat_pointer_notify_button(seat_.wlr(), event->time_msec, event->button, event->state);
        wlr_surface* focused = seat_.wlr()->pointer_state.focused_surface;
        if (event->state == WLR_BUTTON_PRESSED && focused)
            wl_signal_emit(&seat_.events.focus_requested, focused);
    });
    axis_.connect(&cursor_->events.axis, [this](void* data) {
        auto* event = static_cast<wlr_event_pointer_axis*>(data);
        wlr_seat_pointer_notify_axis(seat_.wlr(), event->time_msec, event->orientation, event->delta,
                                     event->delta_discrete, event->source);
    });
    frame_.connect(&cursor_->events.frame, [this](void*) { wlr_seat_pointer_notify_frame(seat_.wlr()); });

    request_set_cursor_.connect(&seat_.wlr()->events.request_set_cursor, [this](void* data) {
        auto* event = static_cast<wlr_seat_pointer_request_set_cursor_event*>(data);
        // Only the client under the pointer may change it.
        if (event->seat_client != seat_.wlr()->pointer_state.focused_client)
            return;
        set_client_image(event->surface, event->hotspot_x, event->hotspot_y);
    });
    outputs_changed_.connect(&server_.outputs_changed, [this](void*) { handle_outputs_changed(); });
}

Cursor::~Cursor() = default;

void Cursor::attach(wlr_input_device* pointer) { wlr_cursor_attach_input_device(cursor_.get(), pointer); }

void Cursor::set_default_image()
{
    client_commit_.disconnect();
    client_destroy_.disconnect();
    client_surface_ = nullptr;
    client_image_ = false;
    if (xcursor_)
        wlr_xcursor_manager_set_cursor_image(xcursor_.get(), default_cursor_name, cursor_.get());
    update_cursor_planes();
    check_hardware_cursors();
}

void Cursor::set_client_image(wlr_surface* surface, int hotspot_x, int hotspot_y)
{
    if (surface != client_surface_) {
        client_commit_.disconnect();
        client_destroy_.disconnect();
        if (surface) {
            // surface->events.commit fires when a commit is applied: one held back by
            // linux-drm-syncobj (its acquire point unsignaled) reaches the plane only then.
            client_commit_.connect(&surface->events.commit, [this](void*) {
                client_hotspot_x_ -= client_surface_->current.dx;
                client_hotspot_y_ -= client_surface_->current.dy;
                update_cursor_planes();
            });
            client_destroy_.connect(&surface->events.destroy, [this](void*) {
                client_commit_.disconnect();
                client_destroy_.disconnect();
                client_surface_ = nullptr;
                for (auto& plane : planes_)
                    plane->forget_client_surface();
                update_cursor_planes();
            });
        }
    }
    client_surface_ = surface;
    client_hotspot_x_ = hotspot_x;
    client_hotspot_y_ = hotspot_y;
    client_image_ = true;
    // wlroots keeps the surface for outputs without a plane of ours (software cursor).
    wlr_cursor_set_surface(cursor_.get(), surface, hotspot_x, hotspot_y);
    update_cursor_planes();
    check_hardware_cursors();
}

void Cursor::handle_outputs_changed()
{
    if (xcursor_)
        for (auto& output : server_.outputs)
            wlr_xcursor_manager_load(xcursor_.get(), output->wlr()->scale);
    std::erase_if(planes_, [](auto& plane) { return !plane->alive(); });
    for (auto& output : server_.outputs)
        presentation_.follow(output->wlr());
    if (!client_image_)
        set_default_image();
    update_cursor_planes();
    check_hardware_cursors();
}

void Cursor::update_cursor_planes()
{
    for (auto& output : server_.outputs) {
        wlr_output* o = output->wlr();
        if (!o->enabled || wlroots_drives_plane(o) || !wlr_output_is_drm(o) || plane_tried_.contains(o->name))
            continue;
        plane_tried_.insert(o->name);
        // The output's own allocator (--buffer-heap): the plane's buffer comes from where its
        // framebuffers do, and the device has already shown it takes those.
        wlr_allocator* allocator = o->allocator ? o->allocator : server_.allocator.get();
        if (auto plane = CursorPlane::create(o, allocator, server_.env.no_hardware_cursors))
            planes_.push_back(std::move(plane));
    }
    std::vector<CursorPlane*> refused;
    for (auto& owned : planes_) {
        CursorPlane& plane = *owned;
        wlr_output* o = plane.output();
        if (!o)
            continue;
        Status drawn = Ok{};
        int hotspot_x = 0, hotspot_y = 0;  // buffer pixels
        if (client_image_) {
            if (!client_surface_) {
                // The client hid the pointer (or its cursor surface is gone): so does wlroots.
                plane.hide();
                plane.set_client_surface(nullptr);
                continue;
            }
            // A copy of the client's buffer (wl_shm memory read in place).
            ShmReadGuard::Reading reading(server_.shm_guard.get());
            drawn = plane.draw(client_surface_);
            hotspot_x = static_cast<int>(std::lround(client_hotspot_x_ * o->scale));
            hotspot_y = static_cast<int>(std::lround(client_hotspot_y_ * o->scale));
        } else {
            wlr_xcursor* xcursor =
                xcursor_ ? wlr_xcursor_manager_get_xcursor(xcursor_.get(), default_cursor_name, o->scale) : nullptr;
            if (!xcursor || xcursor->image_count == 0) {
                plane.hide();  // no image: wlroots has none either
                plane.set_client_surface(nullptr);
                continue;
            }
            drawn = plane.draw(xcursor->images[0]);
            hotspot_x = static_cast<int>(xcursor->images[0]->hotspot_x);
            hotspot_y = static_cast<int>(xcursor->images[0]->hotspot_y);
        }
        if (!drawn) {
            std::string key = std::string(o->name) + ": " + drawn.error().message;
            if (software_logged_.insert(key).second)
                wlr_log(WLR_INFO, "output %s: %s cannot go on the hardware cursor plane (%s); drawing it in software",
                        o->name, client_image_ ? "the client's cursor surface" : "the cursor image",
                        drawn.error().message.c_str());
            use_software_cursor(plane);
            continue;
        }
        // Hide wlroots' software copy on this output first: for a cursor without an image
        // wlroots calls set_cursor(NULL) on the plane, which would undo ours if done after.
        wlr_output_cursor* c;
        wl_list_for_each(c, &o->cursors, link) wlr_output_cursor_set_image(c, nullptr, 0, 0, 0, 0, 0);
        bool was_shown = plane.shown();
        if (!plane.show(hotspot_x, hotspot_y)) {
            wlr_log(WLR_INFO, "output %s: the cursor plane refused our buffer; software cursor", o->name);
            use_software_cursor(plane);
            refused.push_back(&plane);
            continue;
        }
        plane.set_client_surface(client_image_ ? client_surface_ : nullptr);
        if (!was_shown)
            wlr_log(WLR_INFO, "output %s: cursor on the hardware cursor plane (LINEAR ARGB8888, filled on the CPU%s)",
                    o->name, client_image_ ? ", from the client's cursor surface" : "");
        reported_.insert(o->name);
    }
    std::erase_if(planes_, [&](auto& plane) { return std::ranges::find(refused, plane.get()) != refused.end(); });
    move_cursor_planes();
}

void Cursor::use_software_cursor(CursorPlane& plane)
{
    wlr_output* o = plane.output();
    plane.hide();
    plane.set_client_surface(nullptr);
    // wlroots 0.15 keeps an output cursor that once put "no image" on the plane as the output's
    // hardware cursor, and never draws that one in software, even once its image fails to go
    // on the plane: dropping hardware cursors for a moment makes it software again.
    wlr_output_lock_software_cursors(o, true);
    wlr_output_lock_software_cursors(o, false);
    wlr_xcursor* xcursor =
        xcursor_ && !client_image_ ? wlr_xcursor_manager_get_xcursor(xcursor_.get(), default_cursor_name, o->scale)
                                   : nullptr;
    wlr_output_cursor* c;
    wl_list_for_each(c, &o->cursors, link) {
        if (client_image_) {
            wlr_output_cursor_set_surface(c, client_surface_, client_hotspot_x_, client_hotspot_y_);
        } else if (xcursor && xcursor->image_count > 0) {
            const wlr_xcursor_image* image = xcursor->images[0];
            wlr_output_cursor_set_image(c, image->buffer, static_cast<int32_t>(image->width * 4), image->width,
                                        image->height, static_cast<int32_t>(image->hotspot_x),
                                        static_cast<int32_t>(image->hotspot_y));
        }
    }
}

void Cursor::move_cursor_planes()
{
    for (auto& plane : planes_) {
        wlr_output* o = plane->output();
        if (!o || !plane->shown())
            continue;
        double x = cursor_->x, y = cursor_->y;
        wlr_output_layout_output_coords(server_.output_layout.get(), o, &x, &y);
        plane->move(x, y);
    }
}

void Cursor::check_hardware_cursors()
{
    for (auto& output : server_.outputs) {
        wlr_output* o = output->wlr();
        // Only the output showing the cursor has tried the plane.
        if (!o->enabled || reported_.contains(o->name) ||
            !wlr_output_layout_contains_point(server_.output_layout.get(), o, cursor_->x, cursor_->y))
            continue;
        reported_.insert(o->name);
        if (wlroots_drives_plane(o))
            wlr_log(WLR_INFO, "output %s: cursor on the backend's cursor plane (hardware on KMS, the parent's "
                              "cursor when nested)", o->name);
        else
            wlr_log(WLR_INFO, "output %s: no usable hardware cursor plane; drawing the cursor in software",
                    o->name);
    }
}

void Cursor::process_motion(uint32_t time_msec)
{
    move_cursor_planes();
    double sx = 0, sy = 0;
    wlr_scene_node* node = wlr_scene_node_at(&server_.scene->node, cursor_->x, cursor_->y, &sx, &sy);
    wlr_surface* surface = nullptr;
    if (node && node->type == WLR_SCENE_NODE_SURFACE)
        surface = wlr_scene_surface_from_node(node)->surface;
    if (!surface) {
        // Re-setting an unchanged image would damage every output's software cursor (and
        // re-render the primary plane even when the cursor is on its own plane).
        if (client_image_)
            set_default_image();
        wlr_seat_pointer_clear_focus(seat_.wlr());
        return;
    }
    // A client's cursor image is for its own surfaces: entering another client's shows the
    // default until that one sets its own (on the enter event), so a cursor whose owner died
    // or never set one is never left hidden or stale.
    wlr_seat_client* focused = seat_.wlr()->pointer_state.focused_client;
    if (client_image_ && (!focused || focused->client != wl_resource_get_client(surface->resource)))
        set_default_image();
    wlr_seat_pointer_notify_enter(seat_.wlr(), surface, sx, sy);
    wlr_seat_pointer_notify_motion(seat_.wlr(), time_msec, sx, sy);
}

wlr_surface* Cursor::client_surface_on(wlr_output* output) const
{
    if (!client_image_ || !client_surface_)
        return nullptr;
    return wlr_output_layout_output_at(server_.output_layout.get(), cursor_->x, cursor_->y) == output ? client_surface_
                                                                                                        : nullptr;
}

void Cursor::update_pointer_focus() { process_motion(now_msec()); }

} // namespace syncway
