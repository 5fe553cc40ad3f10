#include "acquire_waits.hpp"

#include "drop_cached_buffer.hpp"

#include "../c_boundary.hpp"
#include "../embedded_hook.hpp"
#include "../record/commit_observer.hpp"
#include "../server.hpp"

#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace syncway {
namespace so = syncobj;

namespace {

std::string describe_state(so::PointState state, int error)
{
    switch (state) {
    case so::PointState::Unsubmitted: return "never submitted (its timeline is gone)";
    case so::PointState::Pending: return "still pending";
    case so::PointState::Signaled: return "signaled";
    case so::PointState::Failed: return std::string("failed: ") + std::strerror(error);
    }
    return "?";
}

} // namespace

// The held commits of one wl_surface, oldest first: a wlr_addon on the surface, so it goes with
// the surface (whose cached states wlroots frees then, unlocking their buffers, which signals
// their release points). Exists only while it holds commits.
class AcquireWaits::SurfaceQueue {
public:
    SurfaceQueue(AcquireWaits& owner, wlr_surface* surface) : owner_(owner), surface_(surface)
    {
        hook_.owner = this;
        wlr_addon_init(&hook_.c, &surface->addons, &owner, &addon_interface);
        owner_.queues_.insert(this);
    }

    static SurfaceQueue* find(AcquireWaits& owner, wlr_surface* surface)
    {
        wlr_addon* addon = wlr_addon_find(&surface->addons, &owner, &addon_interface);
        return addon ? Hook::owner_of(addon) : nullptr;
    }

    void push(uint32_t seq, TimelinePoint acquire, Charge charge)
    {
        held_.push_back(Held{seq, std::move(acquire), std::move(charge)});
        if (held_.size() == 1)
            advance(false);
    }
    // A dispatch of the timeline host resolved this queue's wait in-process.
    bool wait_fired() const { return wait_.fired(); }
    void on_wait_fired()
    {
        // The spent wait's teardown (an epoll_ctl and a close) runs after the commit applies,
        // when these locals go: it is not on the path from the signal to the applied state.
        EventSourcePtr spent_source = std::move(wait_source_);
        so::PointWait spent_wait = std::move(wait_);
        Charge spent_charge = std::move(wait_charge_);
        owner_.armed_.erase(this);
        advance(true);
    }
    // The one way a queue ends: empty, or its surface destroyed (`in_addon_set`), or syncway
    // shutting down.
    void end(bool in_addon_set)
    {
        if (!in_addon_set)
            wlr_addon_finish(&hook_.c);
        owner_.armed_.erase(this);
        owner_.queues_.erase(this);
        delete this;
    }

private:
    struct Held {
        uint32_t seq;
        TimelinePoint acquire;
        Charge charge;  // against --limit-held-commits
    };
    using Hook = EmbeddedHook<wlr_addon, SurfaceQueue>;

    ~SurfaceQueue() = default;
    static void addon_destroy(wlr_addon* addon) { Hook::owner_of(addon)->end(true); }
    static constexpr wlr_addon_interface addon_interface{"syncway-acquire-waits", addon_destroy};

    wl_client* client() const { return wl_resource_get_client(surface_->resource); }
    // Applies every held commit whose acquire point resolved, oldest first, and arms a wait for
    // the first one still pending. `fired`: the front's wait just fired.
    void advance(bool fired);
    // False when no wait could be armed: the client was told why and is disconnected.
    bool arm(const TimelinePoint& acquire);

    AcquireWaits& owner_;
    wlr_surface* surface_;
    Hook hook_;
    std::deque<Held> held_;
    so::PointWait wait_;  // on held_.front()'s acquire point
    Charge wait_charge_;  // against --limit-waits
    EventSourcePtr wait_source_;
};

bool AcquireWaits::SurfaceQueue::arm(const TimelinePoint& acquire)
{
    Server& server = owner_.server_;
    auto charge = server.ledger->charge(client(), ClientResource::PointWaits);
    if (!charge) {
        wlr_log(WLR_INFO, "linux-drm-syncobj: %s", charge.error().message.c_str());
        wl_client_post_implementation_error(client(), "linux-drm-syncobj: %s", charge.error().message.c_str());
        return false;
    }
    auto wait = acquire.timeline->wait(acquire.point);
    if (!wait) {
        // A commit held with no wait would freeze the surface for good: the client is told why
        // (out of fds or memory, in the compositor) and disconnected instead.
        std::string why = "cannot wait for acquire point " + std::to_string(acquire.point) + ": " +
                          wait.error().message + "; the commit cannot be held";
        wlr_log(WLR_ERROR, "linux-drm-syncobj: %s", why.c_str());
        wl_client_post_implementation_error(client(), "linux-drm-syncobj: %s", why.c_str());
        return false;
    }
    wait_ = std::move(wait.value());
    wait_charge_ = std::move(charge.value());
    wait_source_.reset(wl_event_loop_add_fd(
        server.event_loop(), wait_.fd(), WL_EVENT_READABLE,
        [](int, uint32_t, void* data) {
            auto* queue = static_cast<SurfaceQueue*>(data);
            at_c_boundary("acquire wait", queue->client(), [queue] {
                if (queue->owner_.server_.commit_observer)
                    queue->owner_.woke_ns_ = CommitObserver::now_ns();
                queue->on_wait_fired();
            });
            return 0;
        },
        this));
    if (!wait_source_) {
        std::string why = std::string("cannot add an acquire wait to the event loop: ") + std::strerror(errno);
        wlr_log(WLR_ERROR, "linux-drm-syncobj: %s", why.c_str());
        wl_client_post_implementation_error(client(), "linux-drm-syncobj: %s", why.c_str());
        return false;
    }
    owner_.armed_.insert(this);
    return true;
}

void AcquireWaits::SurfaceQueue::advance(bool fired)
{
    CommitObserver* observer = fired ? owner_.server_.commit_observer : nullptr;  // released by an event
    while (!held_.empty()) {
        Held& front = held_.front();
        auto status = front.acquire.timeline->query(front.acquire.point);
        so::PointState state = status ? status->state : so::PointState::Failed;
        int error = status ? status->error : status.error().code;
        if (!fired && (state == so::PointState::Pending || state == so::PointState::Unsubmitted)) {
            arm(front.acquire);  // if it cannot, the client is disconnected and this queue goes with its surface
            return;
        }
        // The wait fires when the point is signaled or fails; anything else after it fired
        // means it can no longer be signaled (its timeline died unsubmitted).
        if (state != so::PointState::Signaled) {
            wlr_log(WLR_INFO,
                    "linux-drm-syncobj: acquire point %s of surface %p %s: commit dropped, the previous "
                    "content stays",
                    std::to_string(front.acquire.point).c_str(), static_cast<void*>(surface_),
                    describe_state(state, error).c_str());
            if (wlr_surface_state* cached = find_cached_state(surface_, front.seq);
                cached && (cached->committed & WLR_SURFACE_STATE_BUFFER))
                drop_cached_buffer(surface_, cached);
        }
        uint32_t seq = front.seq;
        held_.pop_front();
        fired = false;
        int64_t unlock_ns = observer ? CommitObserver::now_ns() : 0;
        wlr_surface_unlock_cached(surface_, seq);
        if (observer) {
            int64_t applied_ns = CommitObserver::now_ns();
            observer->acquire_resolved(surface_, seq, state == so::PointState::Signaled, owner_.woke_ns_, unlock_ns,
                                       applied_ns, applied_ns);
        }
    }
    end(false);
}

AcquireWaits::AcquireWaits(Server& server) : server_(server) {}

AcquireWaits::~AcquireWaits()
{
    // Shutdown: the surfaces keep their cached states (freed with them); our waits go now,
    // before the timelines they wait on.
    while (!queues_.empty())
        (*queues_.begin())->end(false);
}

void AcquireWaits::hold(Commit& commit, TimelinePoint acquire)
{
    auto charge = server_.ledger->charge(commit.client(), ClientResource::HeldCommits);
    if (!charge)
        return commit.refuse("linux-drm-syncobj: " + charge.error().message);
    SurfaceQueue* queue = SurfaceQueue::find(*this, commit.surface());
    if (!queue)
        queue = new SurfaceQueue(*this, commit.surface());
    queue->push(commit.hold(), std::move(acquire), std::move(charge.value()));
}

void AcquireWaits::on_host_dispatch()
{
    if (server_.commit_observer)
        woke_ns_ = CommitObserver::now_ns();
    std::vector<SurfaceQueue*> fired;
    for (SurfaceQueue* queue : armed_)
        if (queue->wait_fired())
            fired.push_back(queue);
    for (SurfaceQueue* queue : fired)
        if (armed_.contains(queue))  // still waiting: not ended by an earlier one's commit
            queue->on_wait_fired();
}

} // namespace syncway
