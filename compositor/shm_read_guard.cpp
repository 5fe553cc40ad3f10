#include "shm_read_guard.hpp"

#include "addon.hpp"

#include <dlfcn.h>
#include <signal.h>

#include <cstring>
#include <string_view>

namespace syncway {

// One watched buffer: a wlr_addon on it, so it is forgotten (its range dropped) when wlroots
// destroys the buffer, before the buffer's memory is unmapped.
class ShmReadGuard::Watch : public Addon<Watch> {
public:
    static constexpr const char* kAddonName = "syncway-shm-read-guard";
    Watch(ShmReadGuard& guard, wlr_buffer* buffer, wl_client* client)
        : Addon(buffer->addons, &guard), guard_(guard), buffer_(buffer), client_(client)
    {
    }

    static bool exists(ShmReadGuard& guard, wlr_buffer* buffer) { return Addon::find(buffer->addons, &guard) != nullptr; }
    void addon_destroyed() { guard_.forget(this); }
    wlr_buffer* buffer() const { return buffer_; }
    wl_client* client() const { return client_; }

private:
    ShmReadGuard& guard_;
    wlr_buffer* buffer_;
    wl_client* client_;
};

ShmReadGuard::ShmReadGuard(wl_display* display, CommitGate& gate, std::unique_ptr<SigbusFallback> fallback)
    : display_(display), gate_(gate), fallback_(std::move(fallback)), disconnects_(wl_display_get_event_loop(display))
{
    // At the commit gate the pending buffer is the one the surface is about to show.
    gate_.set(CommitGate::Stage::ReadGuard, [this](Commit& commit) { on_commit(commit.surface()); });
}

ShmReadGuard::~ShmReadGuard()
{
    gate_.set(CommitGate::Stage::ReadGuard, {});
    for (Watch* watch : watches_)
        delete watch;
}

void ShmReadGuard::on_commit(wlr_surface* surface)
{
    const wlr_surface_state& pending = surface->pending;
    if (!(pending.committed & WLR_SURFACE_STATE_BUFFER) || !pending.buffer)
        return;
    watch(pending.buffer, wl_resource_get_client(surface->resource));
}

void ShmReadGuard::watch(wlr_buffer* buffer, wl_client* client)
{
    // Only buffers read through a CPU pointer into a mapping that can shrink under us.
    wlr_dmabuf_attributes dmabuf{};
    if (!buffer->impl->begin_data_ptr_access || wlr_buffer_get_dmabuf(buffer, &dmabuf) ||
        (unshrinkable_ && unshrinkable_(buffer)) || Watch::exists(*this, buffer))
        return;
    watches_.insert(new Watch(*this, buffer, client));
}

void ShmReadGuard::forget(Watch* watch)
{
    fallback_->drop_range(watch);  // may run inside a Reading: the memory is about to go
    watches_.erase(watch);
    delete watch;
}

void ShmReadGuard::refresh_ranges()
{
    // A live wl_buffer's pool may have been remapped elsewhere since the last frame (a resize),
    // so the addresses are taken afresh each time; a destroyed one's stay where they are.
    fallback_->clear_ranges();
    for (Watch* watch : watches_) {
        wlr_buffer* buffer = watch->buffer();
        if (buffer->n_locks == 0)
            continue;  // nothing shows or holds it: not sampled
        void* data = nullptr;
        uint32_t format = 0;
        size_t stride = 0;
        if (!wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride))
            continue;
        wlr_buffer_end_data_ptr_access(buffer);
        fallback_->add_range(data, stride * static_cast<size_t>(buffer->height), reinterpret_cast<uintptr_t>(watch->client()),
                             watch);
    }
}

bool ShmReadGuard::ready_to_absorb()
{
    if (fallback_->installed())
        return true;
    // Our handler must sit in front of libwayland's (which guards the reads of live wl_buffers
    // and passes every other fault to the handler it found), never behind it: libwayland,
    // handed a fault that is not its own, reinstalls the handler it found and re-raises, so a
    // handler of ours below it would stay alone from then on and its guard would be gone.
    // libwayland installs its handler at the first read of a pool that is not sealed against
    // shrinking, and every committed buffer was read when wlroots made its texture; so until
    // libwayland's handler is there, no watched buffer can fault.
    struct sigaction current {};
    if (sigaction(SIGBUS, nullptr, &current) != 0)
        return false;
    void* handler = (current.sa_flags & SA_SIGINFO) ? reinterpret_cast<void*>(current.sa_sigaction)
                                                    : reinterpret_cast<void*>(current.sa_handler);
    Dl_info info{};
    bool libwayland = handler && dladdr(handler, &info) && info.dli_fname &&
                      std::string_view(info.dli_fname).find("libwayland-server") != std::string_view::npos;
    if (!libwayland) {
        if (!warned_foreign_ && handler != reinterpret_cast<void*>(SIG_DFL))
            wlr_log(WLR_DEBUG, "shm guard: the SIGBUS handler in place (%s) is not libwayland's yet; waiting",
                    info.dli_fname ? info.dli_fname : "?");
        warned_foreign_ = true;
        return false;
    }
    if (Status installed = fallback_->install(); !installed) {
        wlr_log(WLR_ERROR, "shm guard: %s", installed.error().message.c_str());
        return false;
    }
    wlr_log(WLR_DEBUG, "shm guard: SIGBUS handler installed in front of libwayland's");
    return true;
}

void ShmReadGuard::disconnect_faulted()
{
    std::vector<uint64_t> owners = fallback_->take_faulted();
    if (owners.empty())
        return;
    wl_list* clients = wl_display_get_client_list(display_);
    for (uint64_t owner : owners) {
        auto* client = reinterpret_cast<wl_client*>(static_cast<uintptr_t>(owner));
        bool alive = false;
        wl_client* c;
        wl_client_for_each(c, clients) alive = alive || c == client;
        if (!alive)
            continue;
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_ERROR,
                "client pid %d truncated the file behind a wl_shm buffer still on screen (read faulted with "
                "SIGBUS; replaced by zeros): disconnecting it",
                pid);
        wl_client_post_implementation_error(client, "the file behind a wl_shm pool was truncated while a buffer "
                                                    "of it was still shown (reading it faulted)");
        disconnects_.schedule(client);
    }
}

ShmReadGuard::Reading::Reading(ShmReadGuard* guard) : guard_(guard)
{
    if (!guard_ || guard_->depth_++ > 0)
        return;
    guard_->refresh_ranges();
    if (guard_->ready_to_absorb())
        armed_.emplace(guard_->fallback_->arm());
}

ShmReadGuard::Reading::~Reading()
{
    if (!guard_ || --guard_->depth_ > 0)
        return;
    armed_.reset();
    guard_->disconnect_faulted();
}

} // namespace syncway
