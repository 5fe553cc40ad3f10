#include "release_points.hpp"

#include "../c_boundary.hpp"
#include "../addon.hpp"
#include "../listener.hpp"
#include "../record/commit_observer.hpp"
#include "../server.hpp"

#include <fcntl.h>
#include <poll.h>

#include <deque>
#include <string>

namespace syncway {

// The points waiting on one wlr_buffer: a wlr_addon on it, so they are settled when wlroots
// destroys the buffer. Kept after a release for the buffer's next commits.
class ReleasePoints::BufferWatch : public Addon<BufferWatch> {
public:
    static constexpr const char* kAddonName = "syncway-release-points";
    BufferWatch(ReleasePoints& owner, wlr_buffer* buffer) : Addon(buffer->addons, &owner), owner_(owner), buffer_(buffer)
    {
        release_.connect(&buffer->events.release, [this](void*) {
            if (!points_.empty())
                owner_.buffer_released(buffer_, points_);
        });
    }

    static BufferWatch* find(ReleasePoints& owner, wlr_buffer* buffer) { return Addon::find(buffer->addons, &owner); }
    void add(Pending point) { points_.push_back(std::move(point)); }
    // Signals the points of commits of `surface` older than `seq` (wrapping sequence numbers).
    void replaced(wlr_surface* surface, uint32_t seq)
    {
        std::vector<Pending> due;
        std::erase_if(points_, [&](Pending& p) {
            bool older = p.surface == surface && static_cast<int32_t>(p.seq - seq) < 0;
            if (older)
                due.push_back(std::move(p));
            return older;
        });
        owner_.signal_all(due);
    }
    // The surface is gone: its entries stay (the buffer is still due a release) but are no
    // longer matched against its commits.
    void forget_surface(wlr_surface* surface)
    {
        for (Pending& p : points_)
            if (p.surface == surface)
                p.surface = nullptr;
    }

    // The one way a watch ends: when wlroots destroys the buffer or syncway shuts down. A
    // destroyed buffer was released before, and its reads waited for then, so what is left is
    // signaled without waiting.
    void end()
    {
        owner_.signal_all(points_);
        owner_.remove(this);
        delete this;
    }
    void addon_destroyed() { end(); }

private:
    ~BufferWatch() = default;

    ReleasePoints& owner_;
    wlr_buffer* buffer_;
    Listener release_;
    std::vector<Pending> points_;
};

// Watches one wl_surface's applied states for per-commit release: a wlr_addon on the surface,
// living as long as the surface.
class ReleasePoints::SurfaceWatch : public Addon<SurfaceWatch> {
public:
    static constexpr const char* kAddonName = "syncway-release-per-commit";
    SurfaceWatch(ReleasePoints& owner, wlr_surface* surface) : Addon(surface->addons, &owner), owner_(owner), surface_(surface)
    {
        applied_.connect(&surface->events.commit, [this](void*) { applied(); });
    }
    // Commit `seq` attaches `buffer` with a release point.
    void committed(uint32_t seq, wlr_buffer* buffer) { commits_.push_back({seq, buffer}); }
    // The one way it ends: the surface goes, or syncway shuts down.
    void end()
    {
        owner_.remove(this);
        delete this;
    }
    void addon_destroyed()
    {
        owner_.surface_gone(surface_);
        end();
    }
    static SurfaceWatch* find(ReleasePoints& owner, wlr_surface* surface) { return Addon::find(surface->addons, &owner); }

private:
    struct Commit {
        uint32_t seq;
        wlr_buffer* buffer;  // locked by the commit's state until it applies
    };
    ~SurfaceWatch() = default;

    // A state became current. wlroots has already handed its buffer to the renderer (the state
    // no longer names it), so the buffer is the one noted at commit time.
    void applied()
    {
        uint32_t seq = surface_->current.seq;
        while (!commits_.empty() && static_cast<int32_t>(commits_.front().seq - seq) <= 0) {
            Commit done = commits_.front();
            commits_.pop_front();
            if (done.seq == seq)
                owner_.state_applied(surface_, seq, done.buffer);
        }
    }

    ReleasePoints& owner_;
    wlr_surface* surface_;
    Listener applied_;
    std::deque<Commit> commits_;  // not applied yet, oldest first
};

// The points of a dma-buf a GPU renderer sampled, signaled once every fence on the dma-buf has
// completed (the renderer's reads among them). The fds are our duplicates: the client may
// destroy the buffer meanwhile.
class ReleasePoints::FencedRelease {
public:
    FencedRelease(ReleasePoints& owner, std::vector<UniqueFd> fds, std::vector<Pending> points)
        : owner_(owner), fds_(std::move(fds)), points_(std::move(points))
    {
    }
    // Waits for the next plane still busy; false once none is.
    bool wait()
    {
        for (; next_ < fds_.size(); ++next_) {
            pollfd p{fds_[next_].get(), POLLOUT, 0};
            if (poll(&p, 1, 0) != 0)
                continue;  // idle (or not pollable: nothing to wait for)
            source_.reset(wl_event_loop_add_fd(
                owner_.server_.event_loop(), fds_[next_].get(), WL_EVENT_WRITABLE,
                [](int, uint32_t, void* data) {
                    auto* self = static_cast<FencedRelease*>(data);
                    at_c_boundary("release after GPU reads", nullptr, [self] {
                        ++self->next_;
                        if (!self->wait())
                            self->owner_.complete(self);
                    });
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
    std::vector<Pending>& points() { return points_; }

private:
    ReleasePoints& owner_;
    std::vector<UniqueFd> fds_;
    std::vector<Pending> points_;
    size_t next_ = 0;
    EventSourcePtr source_;
};

ReleasePoints::ReleasePoints(Server& server) : server_(server), gpu_renderer_(!wlr_renderer_is_pixman(server.renderer.get()))
{
}

ReleasePoints::~ReleasePoints()
{
    while (!surfaces_.empty())
        (*surfaces_.begin())->end();
    while (!watches_.empty())
        (*watches_.begin())->end();
    while (!fenced_.empty())
        complete(fenced_.front().get());
}

void ReleasePoints::add(wlr_surface* surface, uint32_t seq, wlr_buffer* buffer, TimelinePoint point)
{
    SurfaceWatch* surface_watch = SurfaceWatch::find(*this, surface);
    if (!surface_watch) {
        surface_watch = new SurfaceWatch(*this, surface);
        surfaces_.insert(surface_watch);
    }
    surface_watch->committed(seq, buffer);
    BufferWatch* watch = BufferWatch::find(*this, buffer);
    if (!watch) {
        watch = new BufferWatch(*this, buffer);
        watches_.insert(watch);
    }
    watch->add(Pending{surface, seq, std::move(point)});
}

void ReleasePoints::state_applied(wlr_surface* surface, uint32_t seq, wlr_buffer* buffer)
{
    // Only a commit that attached a buffer with a release point of its own replaces the earlier
    // ones on that buffer: a commit that attached nothing leaves the buffer to the one that did.
    if (BufferWatch* watch = BufferWatch::find(*this, buffer))
        watch->replaced(surface, seq);
}

void ReleasePoints::surface_gone(wlr_surface* surface)
{
    for (BufferWatch* watch : watches_)
        watch->forget_surface(surface);
}

void ReleasePoints::signal_now(const TimelinePoint& p)
{
    if (Status s = p.timeline->signal(p.point); !s)
        wlr_log(WLR_ERROR, "linux-drm-syncobj: cannot signal release point %s: %s", std::to_string(p.point).c_str(),
                s.error().message.c_str());
    if (CommitObserver* observer = server_.commit_observer)
        observer->release_signaled(p.timeline.get(), p.point);
}

void ReleasePoints::signal_all(std::vector<Pending>& points)
{
    for (const Pending& p : points)
        signal_now(p.point);
    points.clear();
}

void ReleasePoints::buffer_released(wlr_buffer* buffer, std::vector<Pending>& points)
{
    if (CommitObserver* observer = server_.commit_observer)
        observer->releasing(buffer);  // its content, while the client may not write it yet
    wlr_dmabuf_attributes dmabuf{};
    std::vector<UniqueFd> fds;
    if (gpu_renderer_ && wlr_buffer_get_dmabuf(buffer, &dmabuf))
        for (int i = 0; i < dmabuf.n_planes; ++i)
            if (UniqueFd fd(fcntl(dmabuf.fd[i], F_DUPFD_CLOEXEC, 0)); fd)
                fds.push_back(std::move(fd));
    // The CPU renderer has finished reading when wlroots lets go; gles2 copied a wl_shm buffer
    // into its texture at upload.
    if (fds.empty())
        return signal_all(points);
    auto fenced = std::make_unique<FencedRelease>(*this, std::move(fds), std::move(points));
    points.clear();
    if (!fenced->wait())
        return signal_all(fenced->points());
    fenced_.push_back(std::move(fenced));
}

void ReleasePoints::complete(FencedRelease* done)
{
    for (auto it = fenced_.begin(); it != fenced_.end(); ++it)
        if (it->get() == done) {
            std::unique_ptr<FencedRelease> owned = std::move(*it);
            fenced_.erase(it);
            signal_all(owned->points());
            return;
        }
}

} // namespace syncway
