#include "commit_gate.hpp"

#include <exception>

namespace syncway {

void Commit::reject_now()
{
    if (rejected_)
        return;
    rejected_ = true;
    // Never unlocked: the client is disconnected once this request returns, and wlroots frees
    // the cached state with the surface.
    wlr_surface_lock_pending(surface_);
}

void Commit::reject(wl_resource* resource, uint32_t code, const std::string& message)
{
    pid_t pid = 0;
    wl_client_get_credentials(wl_resource_get_client(resource), &pid, nullptr, nullptr);
    wlr_log(WLR_INFO, "client pid %d: protocol error on %s@%u: %s", pid, wl_resource_get_class(resource),
            wl_resource_get_id(resource), message.c_str());
    wl_resource_post_error(resource, code, "%s", message.c_str());
    reject_now();
}

void Commit::refuse(const std::string& message)
{
    pid_t pid = 0;
    wl_client_get_credentials(client(), &pid, nullptr, nullptr);
    wlr_log(WLR_INFO, "client pid %d refused: %s", pid, message.c_str());
    wl_client_post_implementation_error(client(), "%s", message.c_str());
    reject_now();
}

CommitGate::CommitGate(wl_display* display)
{
    logger_ = wl_display_add_protocol_logger(
        display,
        [](void* data, wl_protocol_logger_type type, const wl_protocol_logger_message* message) {
            // Called for every request and event of every client: one comparison out.
            if (type == WL_PROTOCOL_LOGGER_REQUEST &&
                message->message == &wl_surface_interface.methods[WL_SURFACE_COMMIT])
                static_cast<CommitGate*>(data)->on_commit(message->resource);
        },
        this);
}

CommitGate::~CommitGate()
{
    if (logger_)
        wl_protocol_logger_destroy(logger_);
}

void CommitGate::set(Stage stage, Check check) { checks_[static_cast<unsigned>(stage)] = std::move(check); }

void CommitGate::release(wlr_surface* surface, uint32_t seq)
{
    if (!release_hook_.before) {
        wlr_surface_unlock_cached(surface, seq);
        return;
    }
    release_hook_.before(surface, seq);
    wlr_surface_unlock_cached(surface, seq);
    release_hook_.after(surface);
}

void CommitGate::on_commit(wl_resource* surface_resource)
{
    Commit commit(wlr_surface_from_resource(surface_resource));
    for (Check& check : checks_) {
        if (!check)
            continue;
        try {
            check(commit);
        } catch (const std::exception& e) {
            wlr_log(WLR_ERROR, "commit of wl_surface@%u: %s", wl_resource_get_id(surface_resource), e.what());
            commit.refuse(std::string("out of memory: ") + e.what());
        }
        if (commit.rejected())
            return;
    }
}

} // namespace syncway
