#include "commit_gate.hpp"

#include "addon.hpp"
#include "client_ledger.hpp"
#include "embedded_hook.hpp"
#include "listener.hpp"

#include <exception>
#include <vector>

namespace syncway {
namespace {

// A subsurface that is synchronized itself or through an ancestor subsurface (wlroots 0.15
// decides the same way, in a function it keeps private).
bool effectively_synchronized(wlr_surface* surface)
{
    while (surface && wlr_surface_is_subsurface(surface)) {
        wlr_subsurface* sub = wlr_subsurface_from_wlr_surface(surface);
        if (!sub)
            return false;
        if (sub->synchronized)
            return true;
        surface = sub->parent;
    }
    return false;
}

} // namespace

bool Commit::queued_by_wlroots() const
{
    return !wl_list_empty(&surface_->cached) || effectively_synchronized(surface_);
}

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

// The charges of one surface's cached states, oldest first, each given back when wlroots applies
// that state. A wlr_addon on the surface, so the charges go with it (wlroots frees its cached
// states then); exists only while it holds charges.
class CommitGate::CachedCharges : public Addon<CachedCharges> {
public:
    static constexpr const char* kAddonName = "syncway-commit-gate-charges";
    CachedCharges(CommitGate& gate, wlr_surface* surface) : Addon(surface->addons, &gate), gate_(gate), surface_(surface)
    {
        link_.owner = this;
        wl_list_insert(&gate_.charged_, &link_.c);
        applied_.connect(&surface->events.commit, [this](void*) { applied(); });
    }
    static CachedCharges* find(CommitGate& gate, wlr_surface* surface) { return Addon::find(surface->addons, &gate); }
    static CachedCharges* from_link(wl_list* link) { return Link::owner_of(link); }

    void push(uint32_t seq, Charge charge) { states_.push_back({seq, std::move(charge)}); }
    // The one way it ends: nothing left charged, the surface gone, or the gate going.
    void end()
    {
        wl_list_remove(&link_.c);
        delete this;
    }
    void addon_destroyed() { end(); }

private:
    ~CachedCharges() = default;

    // wlroots applied a state of the surface (the one now current): it and every state before
    // it are no longer cached. States apply oldest first; sequence numbers wrap.
    void applied()
    {
        uint32_t seq = surface_->current.seq;
        for (; oldest_ < states_.size() && static_cast<int32_t>(states_[oldest_].seq - seq) <= 0; ++oldest_)
            states_[oldest_].charge.reset();
        if (oldest_ == states_.size())
            end();
    }

    using Link = EmbeddedHook<wl_list, CachedCharges>;
    struct State {
        uint32_t seq;
        Charge charge;  // one of --limit-held-commits
    };
    CommitGate& gate_;
    wlr_surface* surface_;
    Link link_;
    // Oldest first; those before oldest_ have applied (their charges given back). A vector, not
    // a deque: a surface holds one commit most of the time, and a deque allocates half a kB.
    std::vector<State> states_;
    size_t oldest_ = 0;
    Listener applied_;
};

CommitGate::CommitGate(wl_display* display, ClientLedger& ledger) : ledger_(ledger)
{
    wl_list_init(&charged_);
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
    while (!wl_list_empty(&charged_))
        CachedCharges::from_link(charged_.next)->end();
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

bool CommitGate::charge(Commit& commit)
{
    auto charge = ledger_.charge(commit.client(), ClientResource::HeldCommits);
    if (!charge) {
        commit.refuse("wl_surface.commit: " + charge.error().message);
        return false;
    }
    wlr_surface* surface = commit.surface();
    CachedCharges* charges = CachedCharges::find(*this, surface);
    if (!charges)
        charges = new CachedCharges(*this, surface);
    // wlroots gives the state it caches the pending state's sequence number.
    charges->push(surface->pending.seq, std::move(charge.value()));
    return true;
}

void CommitGate::on_commit(wl_resource* surface_resource)
{
    Commit commit(wlr_surface_from_resource(surface_resource));
    // Runs `step`; false once the commit is rejected (by it, or for an exception it threw).
    auto run = [&](auto&& step) {
        try {
            step();
        } catch (const std::exception& e) {
            wlr_log(WLR_ERROR, "commit of wl_surface@%u: %s", wl_resource_get_id(surface_resource), e.what());
            commit.refuse(std::string("out of memory: ") + e.what());
        }
        return !commit.rejected();
    };
    // A commit wlroots caches anyway is charged before the stages run, so that a client over the
    // limit gets nothing more from them; one a stage holds, right after that stage. The hot path
    // (nothing cached, nothing held) tests two words and a role here, and one word per stage.
    bool charged = commit.queued_by_wlroots();
    if (charged && !run([&] { charge(commit); }))
        return;
    for (Check& check : checks_) {
        if (!check)
            continue;
        if (!run([&] { check(commit); }))
            return;
        if (!charged && commit.pending().cached_state_locks > 0) {
            charged = true;
            if (!run([&] { charge(commit); }))
                return;
        }
    }
}

} // namespace syncway
