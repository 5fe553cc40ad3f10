#include "acquire_waits.hpp"

#include "cached_state_edits.hpp"

#include "../c_boundary.hpp"
#include "../addon.hpp"
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
class AcquireWaits::SurfaceQueue : public Addon<SurfaceQueue> {
public:
    static constexpr const char* kAddonName = "syncway-acquire-waits";
    SurfaceQueue(AcquireWaits& owner, wlr_surface* surface) : Addon(surface->addons, &owner), owner_(owner), surface_(surface)
    {
        owner_.queues_.insert(this);
    }

    static SurfaceQueue* find(AcquireWaits& owner, wlr_surface* surface) { return Addon::find(surface->addons, &owner); }

    void push(Held held)
    {
        held_.push_back(std::move(held));
        if (held_.size() == 1)
            advance(false);
    }
    // The acquire points of the commits this queue holds.
    void append_points(std::vector<TimelinePoint>& out) const
    {
        for (const Held& held : held_)
            if (held.has_own)
                out.push_back(held.points.front());
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
    // The one way a queue ends: empty, or its surface destroyed, or syncway shutting down.
    void end()
    {
        owner_.armed_.erase(this);
        owner_.queues_.erase(this);
        delete this;
    }
    void addon_destroyed() { end(); }

private:
    ~SurfaceQueue() = default;

    wl_client* client() const { return wl_resource_get_client(surface_->resource); }
    // Applies every held commit whose acquire point resolved, oldest first, and arms a wait for
    // the first one still pending. `fired`: the front's wait just fired.
    void advance(bool fired);
    // False when no wait could be armed: the client was told why and is disconnected.
    bool arm(const TimelinePoint& acquire);
    // Tells the client why and disconnects it (at once in its own request, else at the next
    // idle); false, for arm().
    bool disconnect(wlr_log_importance level, const std::string& why);

    AcquireWaits& owner_;
    wlr_surface* surface_;
    std::deque<Held> held_;
    so::PointWait wait_;  // on held_.front().points[next]
    Charge wait_charge_;  // against --limit-waits
    EventSourcePtr wait_source_;
};

bool AcquireWaits::SurfaceQueue::disconnect(wlr_log_importance level, const std::string& why)
{
    wlr_log(level, "linux-drm-syncobj: %s", why.c_str());
    wl_client_post_implementation_error(client(), "linux-drm-syncobj: %s", why.c_str());
    owner_.disconnects_.schedule(client());
    return false;
}

bool AcquireWaits::SurfaceQueue::arm(const TimelinePoint& acquire)
{
    Server& server = owner_.server_;
    auto charge = server.ledger->charge(client(), ClientResource::PointWaits);
    if (!charge)
        return disconnect(WLR_INFO, charge.error().message);
    auto wait = acquire.timeline->wait(acquire.point);
    if (!wait) {
        // A commit held with no wait would freeze the surface for good: the client is told why
        // (out of fds or memory, in the compositor) and disconnected instead.
        return disconnect(WLR_ERROR, "cannot wait for acquire point " + std::to_string(acquire.point) + ": " +
                                         wait.error().message + "; the commit cannot be held");
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
    if (!wait_source_)
        return disconnect(WLR_ERROR, std::string("cannot add an acquire wait to the event loop: ") + std::strerror(errno));
    owner_.armed_.insert(this);
    return true;
}

void AcquireWaits::SurfaceQueue::advance(bool fired)
{
    CommitObserver* observer = fired ? owner_.server_.commit_observer : nullptr;  // released by an event
    while (!held_.empty()) {
        Held& front = held_.front();
        // The wait fires when its point is signaled or fails, or can no longer be signaled (its
        // timeline died unsubmitted): either way that point is settled.
        if (fired)
            ++front.next;
        fired = false;
        for (; front.next < front.points.size(); ++front.next) {
            const TimelinePoint& p = front.points[front.next];
            auto status = p.timeline->query(p.point);
            if (status && (status->state == so::PointState::Pending || status->state == so::PointState::Unsubmitted)) {
                arm(p);  // if it cannot, the client is disconnected and this queue goes with its surface
                return;
            }
        }
        bool shown = true;
        if (front.has_own) {
            const TimelinePoint& own = front.points.front();
            auto status = own.timeline->query(own.point);
            so::PointState state = status ? status->state : so::PointState::Failed;
            shown = state == so::PointState::Signaled;
            if (!shown) {
                wlr_log(WLR_INFO,
                        "linux-drm-syncobj: acquire point %s of surface %p %s: commit dropped, the previous "
                        "content stays",
                        std::to_string(own.point).c_str(), static_cast<void*>(surface_),
                        describe_state(state, status ? status->error : status.error().code).c_str());
                if (wlr_surface_state* cached = find_cached_state(surface_, front.seq);
                    cached && (cached->committed & WLR_SURFACE_STATE_BUFFER))
                    drop_cached_buffer(surface_, cached);
            }
        }
        Held done = std::move(front);
        held_.pop_front();
        int64_t unlock_ns = observer ? CommitObserver::now_ns() : 0;
        owner_.server_.commit_gate->release(surface_, done.seq);
        // The synchronized subsurfaces' states of the same transaction, right after the
        // parent's, before anything is rendered: one frame shows them all.
        for (auto& child : done.children)
            child->release();
        if (observer && done.has_own) {
            int64_t applied_ns = CommitObserver::now_ns();
            observer->acquire_resolved(surface_, done.seq, shown, owner_.woke_ns_, unlock_ns, applied_ns, applied_ns);
        }
    }
    end();
}

AcquireWaits::AcquireWaits(Server& server) : server_(server), disconnects_(server.event_loop()) {}

AcquireWaits::~AcquireWaits()
{
    // Shutdown: the surfaces keep their cached states (freed with them); our waits go now,
    // before the timelines they wait on.
    while (!queues_.empty())
        (*queues_.begin())->end();
}

void AcquireWaits::collect_transaction(wlr_surface* surface, bool synchronized, std::vector<wlr_surface*>& children,
                                       std::vector<TimelinePoint>& points)
{
    // What wlroots does after this commit (subsurface_parent_commit): every effectively
    // synchronized subsurface in the current stacking lists, recursively, has its cached states
    // released.
    auto visit = [&](wl_list* list) {
        wlr_subsurface* sub;
        wl_list_for_each(sub, list, current.link) {
            if (!synchronized && !sub->synchronized)
                continue;
            if (sub->has_cache) {
                children.push_back(sub->surface);
                if (SurfaceQueue* queue = SurfaceQueue::find(*this, sub->surface))
                    queue->append_points(points);
            }
            collect_transaction(sub->surface, true, children, points);
        }
    };
    visit(&surface->current.subsurfaces_below);
    visit(&surface->current.subsurfaces_above);
}

void AcquireWaits::hold(Commit& commit, TimelinePoint acquire)
{
    std::vector<wlr_surface*> children;
    Held held;
    held.has_own = static_cast<bool>(acquire);
    if (acquire)
        held.points.push_back(std::move(acquire));
    collect_transaction(commit.surface(), false, children, held.points);
    SurfaceQueue* queue = SurfaceQueue::find(*this, commit.surface());
    if (held.points.empty() && !queue)
        return;  // nothing to wait for: wlroots applies it with its subsurfaces as usual
    held.seq = commit.hold();  // the commit gate charges it (--limit-held-commits)
    // wlroots releases the subsurfaces' cached states as soon as this request is handled; our
    // own lock keeps them until the parent's state applies.
    for (wlr_surface* child : children)
        if (auto seq = lock_oldest_cached_state(child))
            held.children.push_back(std::make_unique<ChildLock>(*server_.commit_gate, child, *seq));
    if (!queue)
        queue = new SurfaceQueue(*this, commit.surface());
    queue->push(std::move(held));
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
