#include "linux_drm_syncobj_v1.hpp"

#include "../record/commit_observer.hpp"

#include "../listener.hpp"
#include "../server.hpp"
#include "../wlr_ptr.hpp"

#include "linux-drm-syncobj-v1-protocol.h"

#include <syncobj/timeline_host.hpp>

#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <deque>
#include <iterator>
#include <list>
#include <unordered_set>
#include <vector>

// How a commit is held back without a client_commit hook (wlroots 0.15 has none): libwayland
// calls protocol loggers for every request before dispatching it, so a logger that sees
// wl_surface.commit runs just before wlroots moves the pending state. There we validate the
// points against the pending buffer and, if the acquire point is not signaled,
// wlr_surface_lock_pending(): wlroots then caches the state (and every later commit behind
// it) until wlr_surface_unlock_cached(seq), which we call when the point's eventfd fires.
//
// Release: a commit's buffer is needed until wlroots stops locking its wlr_buffer (the pending
// and cached states, the current state, and the renderer's texture lock it; with pixman the
// texture samples the client's memory directly and holds it until the surface's client buffer
// is replaced or destroyed). The buffer's `release` event (lock count back to 0) is that moment.
// A buffer shown on several surfaces at once is released when the last one lets go, so the
// release points of all its commits are signaled then (late for the earlier ones, never early).
// When a held commit is applied, the buffer it replaces lets go inside wlr_surface_unlock_cached,
// but its release points are signaled only once that call has returned (ReleaseBatch): the
// signal wakes the client, and on a busy CPU the woken client preempts us there, which used to
// put the client's run time between the acquire signal and the applied state (B3). Later is
// always safe for a release point.
// With gles2, wlroots 0.15 lets go of a dma-buf once the last frame sampling it is submitted
// (glFlush), not once the GPU has run it (it has no renderer timelines); the GPU's reads are
// fences on the dma-buf (implicit sync), so such a buffer's release points wait for them
// (FencedRelease: POLLOUT on a dma-buf fd waits for every fence on it).
//
// Buffer kinds (unsupported_buffer): a commit's points need (1) nothing to read the buffer
// before its acquire point signals: true of every kind, since the held state is applied (and
// only then rendered) after the CPU wait; and (2) a moment when the renderer has finished
// reading it, for the release point. Kinds that reach a commit in syncway (wlroots 0.15's
// wl_surface.attach rejects buffers no wlr_buffer kind wraps):
//  - wl_shm (every renderer): pixman reads the client's memory while it renders, which is over
//    when wlroots lets go of the buffer; gles2 copies it into a texture at upload.
//  - linux-dmabuf, syncway's own (pixman renderer only): CPU-mapped, read like wl_shm.
//  - linux-dmabuf and wl_drm of wlroots (a renderer that imports dma-bufs, i.e. gles2, which
//    also creates wl_drm when it has a DRM fd): the GPU samples them; see FencedRelease.
// So: a buffer that offers a dma-buf is supported (fences awaited when the renderer is a GPU
// one), as is one the renderer reads through a CPU pointer; anything else gets
// unsupported_buffer. No such kind can be attached in wlroots 0.15 (each kind above offers one
// or the other), so the error guards against kinds registered later
// (wlr_buffer_register_resource_interface), not against any client today.
//
// Failed acquire (the point resolved with an error, e.g. its signaler died): the buffer must
// never show, and wlroots 0.15 cannot drop a cached state. Keeping the lock forever would freeze
// the surface, so the buffer is taken out of the cached state before it is unlocked
// (drop_buffer): the rest of that commit (damage, frame callbacks, role state) applies, the
// surface keeps its previous content and size, and the buffer's release point is signaled as
// soon as wlroots lets go of it. Logged.

namespace syncway {
namespace {

using EventSourcePtr = std::unique_ptr<wl_event_source, WlrDeleter<wl_event_source_remove>>;
namespace so = syncobj;

constexpr const char* kModeEnv = "SYNCWAY_SYNCOBJ";
constexpr uint32_t kVersion = 1;

struct TimelinePoint {
    std::shared_ptr<so::HostedTimeline> timeline;
    uint64_t point = 0;
    explicit operator bool() const { return timeline != nullptr; }
};

void signal_release(const TimelinePoint& p)
{
    if (Status s = p.timeline->signal(p.point); !s)
        wlr_log(WLR_ERROR, "linux-drm-syncobj: cannot signal release point %s: %s", std::to_string(p.point).c_str(),
                s.error().message.c_str());
}

// A wlr_addon whose owner object is found again from the addon pointer (wl_container_of does
// not work on C++ classes that are not standard-layout).
template <typename Owner> struct AddonHook {
    wlr_addon addon{};
    Owner* owner = nullptr;
    static Owner* from(wlr_addon* addon)
    {
        return reinterpret_cast<AddonHook*>(reinterpret_cast<char*>(addon) - offsetof(AddonHook, addon))->owner;
    }
};

// Over a per-client limit (or the compositor's fd budget): the client is told which, and is
// disconnected at the end of this request.
void refuse(wl_client* client, const Error& error)
{
    pid_t pid = 0;
    wl_client_get_credentials(client, &pid, nullptr, nullptr);
    wlr_log(WLR_INFO, "linux-drm-syncobj: client pid %d refused: %s", pid, error.message.c_str());
    wl_client_post_implementation_error(client, "linux-drm-syncobj: %s", error.message.c_str());
}

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

// ---- Surface geometry after a dropped buffer -----------------------------------------------
// wlroots computes a state's size from its buffer when the client commits. When we drop the
// buffer of a failed commit, that state and the later ones that did not attach a buffer must
// get the size the surface would have had without it.
struct Geometry {
    int32_t scale = 1;
    wl_output_transform transform = WL_OUTPUT_TRANSFORM_NORMAL;
    decltype(wlr_surface_state::viewport) viewport{};

    explicit Geometry(const wlr_surface_state& current)
        : scale(current.scale), transform(current.transform), viewport(current.viewport)
    {
    }
    void apply(const wlr_surface_state& next)
    {
        if (next.committed & WLR_SURFACE_STATE_SCALE)
            scale = next.scale;
        if (next.committed & WLR_SURFACE_STATE_TRANSFORM)
            transform = next.transform;
        if (next.committed & WLR_SURFACE_STATE_VIEWPORT)
            viewport = next.viewport;
    }
    // wl_surface + wp_viewporter: destination size, else source size, else the buffer
    // transformed and divided by the scale; no buffer means no size.
    void size(wlr_surface_state& state) const
    {
        int w = state.buffer_width, h = state.buffer_height;
        if (w == 0 && h == 0) {
            state.width = state.height = 0;
        } else if (viewport.has_dst) {
            state.width = viewport.dst_width;
            state.height = viewport.dst_height;
        } else if (viewport.has_src) {
            state.width = static_cast<int>(viewport.src.width);
            state.height = static_cast<int>(viewport.src.height);
        } else {
            if (transform & WL_OUTPUT_TRANSFORM_90)
                std::swap(w, h);
            state.width = w / scale;
            state.height = h / scale;
        }
    }
};

wlr_surface_state* find_cached(wlr_surface* surface, uint32_t seq)
{
    wlr_surface_state* state;
    wl_list_for_each(state, &surface->cached, cached_state_link)
        if (state->seq == seq)
            return state;
    return nullptr;
}

// Removes the buffer from a cached state (its acquire point failed), keeping the previous
// content on screen; damage, frame callbacks and the rest of the commit still apply.
void drop_buffer(wlr_surface* surface, wlr_surface_state* failed)
{
    Geometry geometry(surface->current);
    int prev_width = surface->current.buffer_width, prev_height = surface->current.buffer_height;
    bool fixing = false;
    wlr_surface_state* state;
    wl_list_for_each(state, &surface->cached, cached_state_link) {
        geometry.apply(*state);
        if (state == failed) {
            wlr_buffer_unlock(state->buffer);  // may signal its release point right here
            state->buffer = nullptr;
            state->committed &= ~WLR_SURFACE_STATE_BUFFER;
            fixing = true;
        } else if (fixing && (state->committed & WLR_SURFACE_STATE_BUFFER)) {
            fixing = false;
        }
        if (fixing) {
            state->buffer_width = prev_width;
            state->buffer_height = prev_height;
            geometry.size(*state);
        } else {
            prev_width = state->buffer_width;
            prev_height = state->buffer_height;
        }
    }
    // The pending state carries the buffer size on to commits that attach nothing.
    if (fixing && !(surface->pending.committed & WLR_SURFACE_STATE_BUFFER)) {
        surface->pending.buffer_width = prev_width;
        surface->pending.buffer_height = prev_height;
    }
}

} // namespace

// ---- The protocol objects ------------------------------------------------------------------

class SurfaceSync;
class ReleaseTracker;
class FencedRelease;

struct LinuxDrmSyncobjV1::Impl {
    Impl(Server& server, SyncobjMode mode);
    ~Impl();

    void bind(wl_client* client, uint32_t version, uint32_t id);
    void on_request(const wl_protocol_logger_message* message);
    void track_release(wlr_buffer* buffer, TimelinePoint point);
    void forget(ReleaseTracker* tracker) { trackers.erase(tracker); }
    void dispatch_host();
    // Signals now, or at the end of the ReleaseBatch in progress.
    void release(std::vector<TimelinePoint>& points);
    // Signals once the renderer's reads of `buffer` (a dma-buf) are done.
    void release_after_reads(wlr_buffer* buffer, std::vector<TimelinePoint>& points);
    void forget(FencedRelease* fenced);

    Server& server;
    SyncobjMode mode;
    std::unique_ptr<so::TimelineHost> host;
    EventSourcePtr host_source;
    wl_global* global = nullptr;
    wl_protocol_logger* logger = nullptr;
    std::unordered_set<ReleaseTracker*> trackers;
    std::unordered_set<SurfaceSync*> armed;  // surfaces with an acquire wait in progress
    // The recorder (--record), when there is one: it is told each commit's points and times.
    CommitObserver* observer() const { return server.commit_observer; }
    std::vector<TimelinePoint>* release_batch = nullptr;  // set while a ReleaseBatch collects
    bool gpu_renderer = false;  // samples dma-bufs on a GPU (gles2), not through CPU pointers
    std::list<std::unique_ptr<FencedRelease>> fenced;
    int64_t woke_ns = 0;  // when recording: when the loop handed us the current event
};

using Impl = LinuxDrmSyncobjV1::Impl;

// The release points of one wlr_buffer, signaled each time wlroots stops using it (its lock
// count drops to 0), and when it is destroyed.
class ReleaseTracker {
public:
    ReleaseTracker(Impl& proto, wlr_buffer* buffer) : proto_(proto)
    {
        hook_.owner = this;
        wlr_addon_init(&hook_.addon, &buffer->addons, &proto, &addon_interface);
        // Kept after a release for the buffer's next commits; goes with the buffer.
        release_.connect(&buffer->events.release, [this, buffer](void*) {
            if (CommitObserver* observer = proto_.observer(); observer && !points_.empty())
                observer->releasing(buffer);  // its content, while the client may not write it
            if (proto_.gpu_renderer && !points_.empty())
                proto_.release_after_reads(buffer, points_);
            else
                signal_all();
        });
    }
    ~ReleaseTracker() { proto_.forget(this); }

    static ReleaseTracker* find(Impl& proto, wlr_buffer* buffer)
    {
        wlr_addon* addon = wlr_addon_find(&buffer->addons, &proto, &addon_interface);
        return addon ? AddonHook<ReleaseTracker>::from(addon) : nullptr;
    }
    void add(TimelinePoint point) { points_.push_back(std::move(point)); }
    // Compositor shutdown: the timelines go away with the host.
    void detach()
    {
        signal_all();
        wlr_addon_finish(&hook_.addon);
        delete this;
    }

private:
    // Without waiting for fences: at a release on the CPU renderer, and when the buffer or the
    // compositor goes (a destroyed buffer was released before, its reads waited for then).
    void signal_all() { proto_.release(points_); }

    static void addon_destroy(wlr_addon* addon)
    {
        ReleaseTracker* self = AddonHook<ReleaseTracker>::from(addon);
        self->signal_all();
        delete self;
    }
    static constexpr wlr_addon_interface addon_interface{"syncway-syncobj-release", addon_destroy};

    Impl& proto_;
    AddonHook<ReleaseTracker> hook_;
    Listener release_;
    std::vector<TimelinePoint> points_;
};

// The release points of a dma-buf that a GPU renderer sampled, signaled once every fence on the
// dma-buf has completed (the renderer's reads among them). The fds are our duplicates: the
// client may destroy the buffer meanwhile.
class FencedRelease {
public:
    FencedRelease(Impl& proto, std::vector<UniqueFd> fds, std::vector<TimelinePoint> points)
        : proto_(proto), fds_(std::move(fds)), points_(std::move(points))
    {
    }
    // Waits for the next plane still busy; false once none is (then signal()).
    bool wait()
    {
        for (; next_ < fds_.size(); ++next_) {
            pollfd p{fds_[next_].get(), POLLOUT, 0};
            if (poll(&p, 1, 0) != 0)
                continue;  // idle (or not pollable: nothing to wait for)
            source_.reset(wl_event_loop_add_fd(
                proto_.server.event_loop(), fds_[next_].get(), WL_EVENT_WRITABLE,
                [](int, uint32_t, void* data) {
                    auto* self = static_cast<FencedRelease*>(data);
                    ++self->next_;
                    if (!self->wait())
                        self->proto_.forget(self);  // signals, then deletes self
                    return 0;
                },
                this));
            if (source_)
                return true;
            wlr_log(WLR_ERROR, "linux-drm-syncobj: cannot poll a dma-buf's fences; its release point is "
                               "signaled without waiting for them");
            return false;
        }
        return false;
    }
    void signal()
    {
        source_.reset();
        proto_.release(points_);
    }

private:
    Impl& proto_;
    std::vector<UniqueFd> fds_;
    std::vector<TimelinePoint> points_;
    size_t next_ = 0;
    EventSourcePtr source_;
};

void Impl::release(std::vector<TimelinePoint>& points)
{
    if (release_batch) {
        std::move(points.begin(), points.end(), std::back_inserter(*release_batch));
    } else {
        for (const TimelinePoint& p : points) {
            signal_release(p);
            if (CommitObserver* o = observer())
                o->release_signaled(p.timeline.get(), p.point);
        }
    }
    points.clear();
}

void Impl::release_after_reads(wlr_buffer* buffer, std::vector<TimelinePoint>& points)
{
    wlr_dmabuf_attributes dmabuf{};
    std::vector<UniqueFd> fds;
    if (wlr_buffer_get_dmabuf(buffer, &dmabuf))
        for (int i = 0; i < dmabuf.n_planes; ++i)
            if (UniqueFd fd(fcntl(dmabuf.fd[i], F_DUPFD_CLOEXEC, 0)); fd)
                fds.push_back(std::move(fd));
    if (fds.empty())  // wl_shm: copied into the texture at upload, nothing left to wait for
        return release(points);
    auto wait = std::make_unique<FencedRelease>(*this, std::move(fds), std::move(points));
    points.clear();
    if (!wait->wait())
        return wait->signal();
    fenced.push_back(std::move(wait));
}

void Impl::forget(FencedRelease* done)
{
    for (auto it = fenced.begin(); it != fenced.end(); ++it)
        if (it->get() == done) {
            (*it)->signal();
            fenced.erase(it);
            return;
        }
}

// Collects the release points that fall due while it lives and signals them at flush() (or when
// it goes). Nested batches leave the points to the outermost one.
class ReleaseBatch {
public:
    explicit ReleaseBatch(Impl& proto) : proto_(proto), outermost_(proto.release_batch == nullptr)
    {
        if (outermost_)
            proto_.release_batch = &points_;
    }
    ~ReleaseBatch() { flush(); }
    ReleaseBatch(const ReleaseBatch&) = delete;
    ReleaseBatch& operator=(const ReleaseBatch&) = delete;

    void flush()
    {
        if (!outermost_)
            return;
        proto_.release_batch = nullptr;
        outermost_ = false;
        proto_.release(points_);
    }

private:
    Impl& proto_;
    bool outermost_;
    std::vector<TimelinePoint> points_;
};

// The explicit-sync state of one wl_surface. Lives while its wp_linux_drm_syncobj_surface_v1
// does, or longer while commits it holds still wait (they are honoured after the object is
// destroyed), and never longer than the wl_surface.
class SurfaceSync {
public:
    SurfaceSync(Impl& proto, wlr_surface* surface) : proto_(proto), surface_(surface)
    {
        hook_.owner = this;
        wlr_addon_init(&hook_.addon, &surface->addons, &proto, &addon_interface);
    }

    static SurfaceSync* find(Impl& proto, wlr_surface* surface)
    {
        wlr_addon* addon = wlr_addon_find(&surface->addons, &proto, &addon_interface);
        return addon ? AddonHook<SurfaceSync>::from(addon) : nullptr;
    }
    static SurfaceSync* from_resource(wl_resource* resource)
    {
        return static_cast<SurfaceSync*>(wl_resource_get_user_data(resource));
    }

    wl_resource* resource() const { return resource_; }
    void attach_resource(wl_resource* resource) { resource_ = resource; }
    void set_acquire(TimelinePoint p) { acquire_ = std::move(p); }
    void set_release(TimelinePoint p) { release_ = std::move(p); }

    // The wp_linux_drm_syncobj_surface_v1 was destroyed: pending points are forgotten, held
    // commits still complete.
    void resource_destroyed()
    {
        resource_ = nullptr;
        acquire_ = {};
        release_ = {};
        if (held_.empty())
            destroy();
    }

    // wl_surface.commit, before wlroots handles it.
    void on_commit();
    // True if this surface's wait resolved (a dispatch of the host resolves service timelines
    // in-process; kernel ones have their eventfd written already).
    bool wait_fired() const { return !held_.empty() && wait_.fired(); }
    void on_wait_fired()
    {
        // The spent wait's teardown (an epoll_ctl and a close) runs after the commit applies,
        // when these locals go: it is not on the acquire-to-applied path (B3).
        EventSourcePtr spent_source = std::move(wait_source_);
        so::PointWait spent_wait = std::move(wait_);
        Charge spent_charge = std::move(wait_charge_);
        proto_.armed.erase(this);
        advance(true);
    }

private:
    struct Held {
        uint32_t seq;
        TimelinePoint acquire;
        Charge charge;  // against --limit-held-commits
    };
    wl_client* client() const { return wl_resource_get_client(surface_->resource); }

    void post(uint32_t code, const std::string& message)
    {
        wl_client* client = wl_resource_get_client(resource_);
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_INFO, "linux-drm-syncobj: client pid %d: protocol error: %s", pid, message.c_str());
        wl_resource_post_error(resource_, code, "%s", message.c_str());
    }

    // Releases every held commit whose acquire point resolved, oldest first, and arms an
    // eventfd for the first one still waiting. `fired`: the front's eventfd just fired.
    void advance(bool fired);
    void disarm()
    {
        wait_source_.reset();
        wait_ = so::PointWait();
        wait_charge_.reset();
        proto_.armed.erase(this);
    }
    void destroy()
    {
        wlr_addon_finish(&hook_.addon);
        delete this;
    }
    ~SurfaceSync()
    {
        proto_.armed.erase(this);
        if (resource_)
            wl_resource_set_user_data(resource_, nullptr);  // later requests: no_surface
    }

    static void addon_destroy(wlr_addon* addon)
    {
        // The wl_surface is going away with its cached states: nothing to unlock; their
        // buffers are unlocked by wlroots, which signals their release points.
        delete AddonHook<SurfaceSync>::from(addon);
    }
    static constexpr wlr_addon_interface addon_interface{"syncway-syncobj-surface", addon_destroy};

    Impl& proto_;
    wlr_surface* surface_;
    AddonHook<SurfaceSync> hook_;
    wl_resource* resource_ = nullptr;
    TimelinePoint acquire_, release_;  // set since the last commit
    std::deque<Held> held_;            // commits we locked, oldest first
    so::PointWait wait_;               // on held_.front()'s acquire point
    Charge wait_charge_;               // against --limit-waits
    EventSourcePtr wait_source_;
};

void SurfaceSync::on_commit()
{
    TimelinePoint acquire = std::move(acquire_), release = std::move(release_);
    acquire_ = {};
    release_ = {};
    if (!resource_)
        return;

    const wlr_surface_state& pending = surface_->pending;
    bool has_buffer = (pending.committed & WLR_SURFACE_STATE_BUFFER) && pending.buffer;
    if (!has_buffer) {
        if (acquire || release)
            post(WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_BUFFER,
                 std::string("commit sets ") + (acquire ? "an acquire" : "a release") +
                     " point but attaches no buffer");
        return;
    }
    // See "Buffer kinds" at the top of this file.
    wlr_buffer* buffer = pending.buffer;
    wlr_dmabuf_attributes dmabuf{};
    if (!wlr_buffer_get_dmabuf(buffer, &dmabuf) && !buffer->impl->begin_data_ptr_access)
        return post(WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_UNSUPPORTED_BUFFER,
                    "the attached buffer is neither a dma-buf nor CPU-readable: its reads cannot be ordered "
                    "against the points");
    if (!acquire)
        return post(WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_ACQUIRE_POINT,
                    "commit attaches a buffer without an acquire point");
    if (!release)
        return post(WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_RELEASE_POINT,
                    "commit attaches a buffer without a release point");
    if (acquire.timeline == release.timeline && acquire.point >= release.point)
        return post(WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_CONFLICTING_POINTS,
                    "acquire point " + std::to_string(acquire.point) + " is not below release point " +
                        std::to_string(release.point) + " on the same timeline");

    auto status = acquire.timeline->query(acquire.point);
    bool signaled = status && status->state == so::PointState::Signaled;
    if (CommitObserver* observer = proto_.observer())
        observer->sync_points(surface_, surface_->pending.seq, acquire.timeline, acquire.point, release.timeline.get(),
                              release.point, signaled);
    proto_.track_release(pending.buffer, std::move(release));

    // The recorder's own tests need a compositor that gets this wrong (--test-fault).
    if (signaled || proto_.server.test_ignore_acquire)
        return;  // applies now (behind earlier held commits, which wlroots keeps in order)

    auto charge = proto_.server.ledger->charge(client(), ClientResource::HeldCommits);
    if (!charge)
        return refuse(client(), charge.error());
    held_.push_back(Held{wlr_surface_lock_pending(surface_), std::move(acquire), std::move(charge.value())});
    if (held_.size() == 1)
        advance(false);
}

void SurfaceSync::advance(bool fired)
{
    CommitObserver* observer = fired ? proto_.observer() : nullptr;  // commits released by an event
    while (!held_.empty()) {
        Held& front = held_.front();
        auto status = front.acquire.timeline->query(front.acquire.point);
        so::PointState state = status ? status->state : so::PointState::Failed;
        int error = status ? status->error : status.error().code;
        if (!fired && (state == so::PointState::Pending || state == so::PointState::Unsubmitted)) {
            auto charge = proto_.server.ledger->charge(client(), ClientResource::PointWaits);
            if (!charge)
                return refuse(client(), charge.error());  // disconnected; the surface goes with it
            auto wait = front.acquire.timeline->wait(front.acquire.point);
            if (!wait) {
                wlr_log(WLR_ERROR, "linux-drm-syncobj: cannot wait for acquire point %s: %s",
                        std::to_string(front.acquire.point).c_str(), wait.error().message.c_str());
                if (resource_)
                    wl_resource_post_no_memory(resource_);
                return;  // the client is disconnected; its surface goes with it
            }
            wait_ = std::move(wait.value());
            wait_charge_ = std::move(charge.value());
            wait_source_.reset(wl_event_loop_add_fd(
                proto_.server.event_loop(), wait_.fd(), WL_EVENT_READABLE,
                [](int, uint32_t, void* data) {
                    auto* sync = static_cast<SurfaceSync*>(data);
                    if (sync->proto_.observer())
                        sync->proto_.woke_ns = CommitObserver::now_ns();
                    sync->on_wait_fired();
                    return 0;
                },
                this));
            proto_.armed.insert(this);
            return;
        }
        ReleaseBatch releases(proto_);  // the replaced buffer's points: after the state applies
        // The eventfd fires when the point is signaled or fails; anything else after it
        // fired means it can no longer be signaled (its timeline died unsubmitted).
        if (state != so::PointState::Signaled) {
            wlr_log(WLR_INFO,
                    "linux-drm-syncobj: acquire point %s of surface %p %s: commit dropped, the "
                    "previous content stays",
                    std::to_string(front.acquire.point).c_str(), static_cast<void*>(surface_),
                    describe_state(state, error).c_str());
            if (wlr_surface_state* cached = find_cached(surface_, front.seq);
                cached && (cached->committed & WLR_SURFACE_STATE_BUFFER))
                drop_buffer(surface_, cached);
        }
        uint32_t seq = front.seq;
        held_.pop_front();
        fired = false;
        int64_t unlock_ns = observer ? CommitObserver::now_ns() : 0;
        wlr_surface_unlock_cached(surface_, seq);
        int64_t applied_ns = observer ? CommitObserver::now_ns() : 0;
        releases.flush();
        if (observer)
            observer->acquire_resolved(surface_, seq, state == so::PointState::Signaled, proto_.woke_ns, unlock_ns,
                                       applied_ns, CommitObserver::now_ns());
    }
    if (!resource_)
        destroy();
}

// Points a client signals reach us through the host's socket; the waits they resolve are
// handled right here rather than one more trip through epoll for their eventfds, and before
// the host tears down what the signal finished (B3).
void Impl::dispatch_host()
{
    if (observer())
        woke_ns = CommitObserver::now_ns();
    host->dispatch([this] {
        std::vector<SurfaceSync*> fired;
        for (SurfaceSync* sync : armed)
            if (sync->wait_fired())
                fired.push_back(sync);
        for (SurfaceSync* sync : fired)
            if (armed.contains(sync))  // still waiting: not destroyed by an earlier one's commit
                sync->on_wait_fired();
    });
}

void Impl::track_release(wlr_buffer* buffer, TimelinePoint point)
{
    ReleaseTracker* tracker = ReleaseTracker::find(*this, buffer);
    if (!tracker) {
        tracker = new ReleaseTracker(*this, buffer);
        trackers.insert(tracker);
    }
    tracker->add(std::move(point));
}

// ---- Requests ------------------------------------------------------------------------------

namespace {

struct TimelineRef {
    std::shared_ptr<so::HostedTimeline> timeline;
    Charge charge;  // against --limit-timelines and the fd budget
};

TimelineRef* timeline_from(wl_resource* resource)
{
    return static_cast<TimelineRef*>(wl_resource_get_user_data(resource));
}

void destroy_resource(wl_client*, wl_resource* resource) { wl_resource_destroy(resource); }

void set_point(wl_resource* resource, wl_resource* timeline, uint32_t hi, uint32_t lo, bool acquire)
{
    SurfaceSync* sync = SurfaceSync::from_resource(resource);
    if (!sync) {
        wl_resource_post_error(resource, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_SURFACE,
                               "the wl_surface of this object was destroyed");
        return;
    }
    TimelinePoint p{timeline_from(timeline)->timeline, (uint64_t(hi) << 32) | lo};
    acquire ? sync->set_acquire(std::move(p)) : sync->set_release(std::move(p));
}

const struct wp_linux_drm_syncobj_surface_v1_interface surface_impl = {
    .destroy = destroy_resource,
    .set_acquire_point = [](wl_client*, wl_resource* r, wl_resource* t, uint32_t hi,
                            uint32_t lo) { set_point(r, t, hi, lo, true); },
    .set_release_point = [](wl_client*, wl_resource* r, wl_resource* t, uint32_t hi,
                            uint32_t lo) { set_point(r, t, hi, lo, false); },
};

const struct wp_linux_drm_syncobj_timeline_v1_interface timeline_impl = {
    .destroy = destroy_resource,
};

Impl* manager_from(wl_resource* resource) { return static_cast<Impl*>(wl_resource_get_user_data(resource)); }

void get_surface(wl_client* client, wl_resource* manager, uint32_t id, wl_resource* surface_resource)
{
    Impl& proto = *manager_from(manager);
    wlr_surface* surface = wlr_surface_from_resource(surface_resource);
    SurfaceSync* sync = SurfaceSync::find(proto, surface);
    if (sync && sync->resource()) {
        wl_resource_post_error(manager, WP_LINUX_DRM_SYNCOBJ_MANAGER_V1_ERROR_SURFACE_EXISTS,
                               "wl_surface@%u already has a wp_linux_drm_syncobj_surface_v1",
                               wl_resource_get_id(surface_resource));
        return;
    }
    wl_resource* resource = wl_resource_create(client, &wp_linux_drm_syncobj_surface_v1_interface,
                                               wl_resource_get_version(manager), id);
    if (!resource) {
        wl_client_post_no_memory(client);
        return;
    }
    if (!sync)
        sync = new SurfaceSync(proto, surface);  // owned by the surface's addon set
    sync->attach_resource(resource);
    wl_resource_set_implementation(resource, &surface_impl, sync, [](wl_resource* r) {
        if (SurfaceSync* s = SurfaceSync::from_resource(r))
            s->resource_destroyed();
    });
}

void import_timeline(wl_client* client, wl_resource* manager, uint32_t id, int32_t fd)
{
    Impl& proto = *manager_from(manager);
    UniqueFd owned(fd);
    auto charge = proto.server.ledger->charge(client, ClientResource::Timelines);
    if (!charge)
        return refuse(client, charge.error());
    auto imported = proto.host->import_timeline(fd);
    std::string problem;
    if (!imported)
        problem = imported.error().message;
    if (!problem.empty()) {
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_INFO, "linux-drm-syncobj: client pid %d: invalid timeline: %s", pid, problem.c_str());
        wl_resource_post_error(manager, WP_LINUX_DRM_SYNCOBJ_MANAGER_V1_ERROR_INVALID_TIMELINE,
                               "fd %d cannot be imported: %s", fd, problem.c_str());
        return;
    }
    wl_resource* resource = wl_resource_create(client, &wp_linux_drm_syncobj_timeline_v1_interface,
                                               wl_resource_get_version(manager), id);
    if (!resource) {
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(resource, &timeline_impl, new TimelineRef{std::move(imported.value()), std::move(charge.value())},
                                   [](wl_resource* r) { delete timeline_from(r); });
}

const struct wp_linux_drm_syncobj_manager_v1_interface manager_impl = {
    .destroy = destroy_resource,
    .get_surface = get_surface,
    .import_timeline = import_timeline,
};

SyncobjMode resolve_mode(std::optional<SyncobjMode> option)
{
    std::optional<SyncobjMode> from_env;
    if (const char* env = std::getenv(kModeEnv); env && *env) {
        from_env = syncobj_mode_from(env);
        if (!from_env)
            wlr_log(WLR_ERROR, "ignoring %s='%s': expected auto, kernel, drm, service or off", kModeEnv, env);
    }
    if (from_env == SyncobjMode::Off) {
        if (option && *option != SyncobjMode::Off)
            wlr_log(WLR_INFO, "%s=off overrides --syncobj %s", kModeEnv,
                    std::string(syncobj_mode_name(*option)).c_str());
        return SyncobjMode::Off;
    }
    return option ? *option : from_env.value_or(SyncobjMode::Auto);
}

} // namespace

void Impl::bind(wl_client* client, uint32_t version, uint32_t id)
{
    wl_resource* resource = wl_resource_create(client, &wp_linux_drm_syncobj_manager_v1_interface, version, id);
    if (!resource) {
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(resource, &manager_impl, this, nullptr);
}

void Impl::on_request(const wl_protocol_logger_message* message)
{
    wlr_surface* surface = wlr_surface_from_resource(message->resource);
    if (SurfaceSync* sync = SurfaceSync::find(*this, surface))
        sync->on_commit();
}

Impl::Impl(Server& server_, SyncobjMode mode_)
    : server(server_), mode(mode_), gpu_renderer(!wlr_renderer_is_pixman(server_.renderer.get()))
{
    if (mode == SyncobjMode::Off) {
        wlr_log(WLR_INFO, "explicit sync off: linux-drm-syncobj-v1 not advertised");
        return;
    }
    bool kernel_only = mode == SyncobjMode::Kernel || mode == SyncobjMode::Drm;
    so::HostOptions options;
    options.run_service = !kernel_only;  // kernel-only modes: the host refuses service timelines
    if (options.run_service)
        options.socket_path = std::string(std::getenv("XDG_RUNTIME_DIR") ?: "/tmp") + "/syncway-syncobj-" +
                              std::to_string(getpid()) + ".sock";
    options.import_kernel_timelines = mode != SyncobjMode::Service;
    options.kernel_via_syncobj_dev = mode != SyncobjMode::Drm;
    auto created = so::TimelineHost::create(options);
    if (!created) {
        wlr_log(WLR_ERROR, "explicit sync unavailable, linux-drm-syncobj-v1 not advertised: cannot host the "
                           "syncobj service: %s", created.error().message.c_str());
        return;
    }
    host = std::move(created.value());
    if (kernel_only && host->kernel_device().empty()) {
        wlr_log(WLR_ERROR, "explicit sync unavailable, linux-drm-syncobj-v1 not advertised: --syncobj %s "
                           "needs %sa DRM render node with timeline syncobjs, none found",
                std::string(syncobj_mode_name(mode)).c_str(),
                mode == SyncobjMode::Kernel ? "/dev/syncobj or " : "");
        host.reset();
        return;
    }
    if (host->fd() >= 0)
        host_source.reset(wl_event_loop_add_fd(
        server.event_loop(), host->fd(), WL_EVENT_READABLE,
        [](int, uint32_t, void* data) {
            static_cast<Impl*>(data)->dispatch_host();
            return 0;
        },
        this));
    if (kernel_only)
        unsetenv(so::kSocketEnv);  // our children must not use a service we will not accept
    else
        setenv(so::kSocketEnv, host->socket_path().c_str(), 1);

    global = wl_global_create(server.display.get(), &wp_linux_drm_syncobj_manager_v1_interface, kVersion, this,
                              [](wl_client* client, void* data, uint32_t version, uint32_t id) {
                                  static_cast<Impl*>(data)->bind(client, version, id);
                              });
    logger = wl_display_add_protocol_logger(
        server.display.get(),
        [](void* data, wl_protocol_logger_type type, const wl_protocol_logger_message* message) {
            // Called for every request and event of every client: one pointer comparison out.
            if (type == WL_PROTOCOL_LOGGER_REQUEST &&
                message->message == &wl_surface_interface.methods[WL_SURFACE_COMMIT])
                static_cast<Impl*>(data)->on_request(message);
        },
        this);
    std::string kernel = host->kernel_device().empty()
                             ? std::string("kernel syncobj fds not accepted (no /dev/syncobj, no DRM render node "
                                           "with timeline syncobjs)")
                             : "kernel syncobj fds accepted through " + host->kernel_device() + ", waited for by " +
                                   host->kernel_wait_method();
    wlr_log(WLR_INFO, "explicit sync (--syncobj %s): linux-drm-syncobj-v1 advertised; %s; %s",
            std::string(syncobj_mode_name(mode)).c_str(),
            kernel_only ? "userspace service timelines not accepted"
                        : ("userspace syncobj service at " + host->socket_path() + " ($" + so::kSocketEnv + ")").c_str(),
            kernel.c_str());
}

Impl::~Impl()
{
    if (logger)
        wl_protocol_logger_destroy(logger);
    if (global)
        wl_global_destroy(global);
    // Buffers can outlive their clients (e.g. scanned out): settle their release points now,
    // while the timelines' host still exists.
    while (!trackers.empty())
        (*trackers.begin())->detach();
    while (!fenced.empty()) {
        fenced.front()->signal();
        fenced.pop_front();
    }
    host_source.reset();
    host.reset();
}

LinuxDrmSyncobjV1::LinuxDrmSyncobjV1(Server& server, std::optional<SyncobjMode> mode)
    : impl_(std::make_unique<Impl>(server, resolve_mode(mode)))
{
}

LinuxDrmSyncobjV1::~LinuxDrmSyncobjV1() = default;

bool LinuxDrmSyncobjV1::synchronizes(wlr_surface* surface) const
{
    SurfaceSync* sync = SurfaceSync::find(*impl_, surface);
    return sync && sync->resource();
}

} // namespace syncway
