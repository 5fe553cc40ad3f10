#include "linux_drm_syncobj_v1.hpp"

#include "../c_boundary.hpp"
#include "../commit_gate.hpp"
#include "../addon.hpp"
#include "../explicit_sync/acquire_waits.hpp"
#include "../explicit_sync/release_points.hpp"
#include "../explicit_sync/timeline_host_setup.hpp"
#include "../record/commit_observer.hpp"
#include "../server.hpp"

#include "linux-drm-syncobj-v1-protocol.h"

#include <syncobj/timeline_host.hpp>

// Which buffers can carry points (unsupported_buffer). A commit's points need (1) nothing to
// read the buffer before its acquire point signals: true of every kind, since a held state is
// applied (and only then rendered) after the wait; and (2) a moment when the renderer has
// finished reading it, for the release point. Kinds that reach a commit in syncway (wlroots
// 0.15's wl_surface.attach rejects buffers no wlr_buffer kind wraps):
//  - wl_shm (every renderer): pixman reads the client's memory while it renders, which is over
//    when wlroots lets go of the buffer; gles2 copies it into a texture at upload.
//  - linux-dmabuf, syncway's own (pixman renderer only): CPU-mapped, read like wl_shm.
//  - linux-dmabuf and wl_drm of wlroots (a renderer that imports dma-bufs, i.e. gles2): the GPU
//    samples them; their release waits for the GPU's reads (release_points.hpp).
// So a buffer that offers a dma-buf is supported, as is one the renderer reads through a CPU
// pointer; anything else gets unsupported_buffer. No kind attachable in wlroots 0.15 is neither,
// so the error guards against kinds registered later (wlr_buffer_register_resource_interface).

namespace syncway {
namespace so = syncobj;

namespace {
constexpr uint32_t kVersion = 1;
}

struct LinuxDrmSyncobjV1::Impl {
    explicit Impl(Server& server);
    ~Impl();

    void check_commit(Commit& commit);

    Server& server;
    so::TimelineHost& host;
    ReleasePoints releases;
    AcquireWaits acquire_waits;
    EventSourcePtr host_source;
    wl_global* global = nullptr;
};

using Impl = LinuxDrmSyncobjV1::Impl;

namespace {

// Rejects the commit with a protocol error of wp_linux_drm_syncobj_surface_v1; nothing to wait for.
TimelinePoint reject_with(Commit& commit, wl_resource* resource, uint32_t code, const std::string& message)
{
    commit.reject(resource, code, message);
    return {};
}

// A wp_linux_drm_syncobj_timeline_v1.
struct TimelineObject {
    std::shared_ptr<so::HostedTimeline> timeline;
    Charge charge;  // against --limit-timelines and the fd budget
};

TimelineObject* timeline_from(wl_resource* resource)
{
    return static_cast<TimelineObject*>(wl_resource_get_user_data(resource));
}

// A wp_linux_drm_syncobj_surface_v1: the points set for the surface's next commit. Lives as
// long as its resource; an addon on the wl_surface while that lives, so a commit finds it and a
// second one for the same surface is refused. Commits it let through are held elsewhere
// (AcquireWaits) and honoured after it is destroyed.
class SyncobjSurface : public Addon<SyncobjSurface> {
public:
    static constexpr const char* kAddonName = "syncway-syncobj-surface";
    SyncobjSurface(Impl& proto, wlr_surface* surface, wl_resource* resource)
        : Addon(surface->addons, &proto), proto_(proto), surface_(surface), resource_(resource)
    {
    }
    // The one way it ends: its resource is destroyed. Points set and not committed are
    // signaled, so a client waiting on them does not stall.
    ~SyncobjSurface()
    {
        if (release_)
            proto_.releases.signal_now(release_);
    }
    // The wl_surface is destroyed first: the object stays, inert (no_surface).
    void addon_destroyed() { surface_ = nullptr; }

    static SyncobjSurface* find(Impl& proto, wlr_surface* surface) { return Addon::find(surface->addons, &proto); }
    static SyncobjSurface* from_resource(wl_resource* resource)
    {
        return static_cast<SyncobjSurface*>(wl_resource_get_user_data(resource));
    }

    wlr_surface* surface() const { return surface_; }
    void set_acquire(TimelinePoint p) { acquire_ = std::move(p); }
    void set_release(TimelinePoint p)
    {
        // A release point replaced before any commit used it is signaled at once.
        if (release_)
            proto_.releases.signal_now(release_);
        release_ = std::move(p);
    }
    // Checks the points of this commit (protocol errors reject it) and returns its acquire
    // point when the commit must wait for it (empty otherwise).
    TimelinePoint check_commit(Commit& commit);

private:
    Impl& proto_;
    wlr_surface* surface_;
    wl_resource* resource_;
    TimelinePoint acquire_, release_;  // set since the last commit
};

TimelinePoint SyncobjSurface::check_commit(Commit& commit)
{
    commit.explicit_sync = true;
    TimelinePoint acquire = std::move(acquire_), release = std::move(release_);
    acquire_ = {};
    release_ = {};

    wlr_buffer* buffer = commit.attached_buffer();
    if (!buffer) {
        if (acquire || release)
            commit.reject(resource_, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_BUFFER,
                          std::string("commit sets ") + (acquire ? "an acquire" : "a release") +
                              " point but attaches no buffer");
        return {};
    }
    wlr_dmabuf_attributes dmabuf{};
    if (!wlr_buffer_get_dmabuf(buffer, &dmabuf) && !buffer->impl->begin_data_ptr_access)
        return reject_with(commit, resource_, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_UNSUPPORTED_BUFFER,
                             "the attached buffer is neither a dma-buf nor CPU-readable: its reads cannot be "
                             "ordered against the points");
    if (!acquire)
        return reject_with(commit, resource_, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_ACQUIRE_POINT,
                             "commit attaches a buffer without an acquire point");
    if (!release)
        return reject_with(commit, resource_, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_RELEASE_POINT,
                             "commit attaches a buffer without a release point");
    if (acquire.timeline == release.timeline && acquire.point >= release.point)
        return reject_with(commit, resource_, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_CONFLICTING_POINTS,
                             "acquire point " + std::to_string(acquire.point) + " is not below release point " +
                                 std::to_string(release.point) + " on the same timeline");

    auto status = acquire.timeline->query(acquire.point);
    bool signaled = status && status->state == so::PointState::Signaled;
    if (CommitObserver* observer = proto_.server.commit_observer)
        observer->sync_points(commit.surface(), commit.pending().seq, acquire.timeline, acquire.point,
                              release.timeline.get(), release.point, signaled);
    proto_.releases.add(commit.surface(), commit.pending().seq, buffer, std::move(release));
    // The recorder's own tests need a compositor that gets this wrong (--test-fault).
    if (signaled || proto_.server.test_ignore_acquire)
        return {};  // nothing to wait for (earlier held commits stay ahead: wlroots keeps order)
    return acquire;
}

// ---- Requests ------------------------------------------------------------------------------

void destroy_resource(wl_client*, wl_resource* resource) { wl_resource_destroy(resource); }

void set_point(wl_resource* resource, wl_resource* timeline, uint32_t hi, uint32_t lo, bool acquire)
{
    SyncobjSurface* sync = SyncobjSurface::from_resource(resource);
    if (!sync->surface()) {
        wl_resource_post_error(resource, WP_LINUX_DRM_SYNCOBJ_SURFACE_V1_ERROR_NO_SURFACE,
                               "the wl_surface of this object was destroyed");
        return;
    }
    TimelinePoint p{timeline_from(timeline)->timeline, (uint64_t(hi) << 32) | lo};
    acquire ? sync->set_acquire(std::move(p)) : sync->set_release(std::move(p));
}

const struct wp_linux_drm_syncobj_surface_v1_interface surface_impl = {
    .destroy = destroy_resource,
    .set_acquire_point =
        [](wl_client* client, wl_resource* r, wl_resource* t, uint32_t hi, uint32_t lo) {
            at_c_boundary("set_acquire_point", client, [&] { set_point(r, t, hi, lo, true); });
        },
    .set_release_point =
        [](wl_client* client, wl_resource* r, wl_resource* t, uint32_t hi, uint32_t lo) {
            at_c_boundary("set_release_point", client, [&] { set_point(r, t, hi, lo, false); });
        },
};

const struct wp_linux_drm_syncobj_timeline_v1_interface timeline_impl = {
    .destroy = destroy_resource,
};

Impl* syncobj_manager_from(wl_resource* resource) { return static_cast<Impl*>(wl_resource_get_user_data(resource)); }

void get_surface(wl_client* client, wl_resource* manager, uint32_t id, wl_resource* surface_resource)
{
    Impl& proto = *syncobj_manager_from(manager);
    wlr_surface* surface = wlr_surface_from_resource(surface_resource);
    if (SyncobjSurface::find(proto, surface)) {
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
    auto* sync = new SyncobjSurface(proto, surface, resource);
    wl_resource_set_implementation(resource, &surface_impl, sync,
                                   [](wl_resource* r) { delete SyncobjSurface::from_resource(r); });
}

void import_timeline(wl_client* client, wl_resource* manager, uint32_t id, int32_t fd)
{
    Impl& proto = *syncobj_manager_from(manager);
    UniqueFd owned(fd);
    auto charge = proto.server.ledger->charge(client, ClientResource::Timelines);
    if (!charge) {
        wlr_log(WLR_INFO, "linux-drm-syncobj: %s", charge.error().message.c_str());
        wl_client_post_implementation_error(client, "linux-drm-syncobj: %s", charge.error().message.c_str());
        return;
    }
    auto imported = proto.host.import_timeline(fd);
    if (!imported) {
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_INFO, "linux-drm-syncobj: client pid %d: invalid timeline: %s", pid,
                imported.error().message.c_str());
        wl_resource_post_error(manager, WP_LINUX_DRM_SYNCOBJ_MANAGER_V1_ERROR_INVALID_TIMELINE,
                               "fd %d cannot be imported: %s", fd, imported.error().message.c_str());
        return;
    }
    wl_resource* resource = wl_resource_create(client, &wp_linux_drm_syncobj_timeline_v1_interface,
                                               wl_resource_get_version(manager), id);
    if (!resource) {
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(resource, &timeline_impl,
                                   new TimelineObject{std::move(imported.value()), std::move(charge.value())},
                                   [](wl_resource* r) { delete timeline_from(r); });
}

const struct wp_linux_drm_syncobj_manager_v1_interface manager_impl = {
    .destroy = destroy_resource,
    .get_surface =
        [](wl_client* client, wl_resource* manager, uint32_t id, wl_resource* surface) {
            at_c_boundary("get_surface", client, [&] { get_surface(client, manager, id, surface); });
        },
    .import_timeline =
        [](wl_client* client, wl_resource* manager, uint32_t id, int32_t fd) {
            at_c_boundary("import_timeline", client, [&] { import_timeline(client, manager, id, fd); });
        },
};

} // namespace

void Impl::check_commit(Commit& commit)
{
    TimelinePoint acquire;
    if (SyncobjSurface* sync = SyncobjSurface::find(*this, commit.surface()))
        acquire = sync->check_commit(commit);
    if (commit.rejected())
        return;
    // Every commit: one without points of its own may still apply synchronized subsurfaces'
    // states that wait for theirs.
    acquire_waits.hold(commit, std::move(acquire));
}

Impl::Impl(Server& server_) : server(server_), host(*server_.timelines), releases(server_), acquire_waits(server_)
{
    if (host.fd() >= 0)
        host_source.reset(wl_event_loop_add_fd(
            server.event_loop(), host.fd(), WL_EVENT_READABLE,
            [](int, uint32_t, void* data) {
                // Points a client signals reach us through the service's socket; the waits they
                // resolve are handled right in its dispatch, before it cleans up after them.
                auto* self = static_cast<Impl*>(data);
                at_c_boundary("syncobj service", nullptr, [self] {
                    self->host.dispatch([self] { self->acquire_waits.on_host_dispatch(); });
                });
                return 0;
            },
            this));
    global = wl_global_create(server.display.get(), &wp_linux_drm_syncobj_manager_v1_interface, kVersion, this,
                              [](wl_client* client, void* data, uint32_t version, uint32_t id) {
                                  wl_resource* resource = wl_resource_create(
                                      client, &wp_linux_drm_syncobj_manager_v1_interface, version, id);
                                  if (!resource)
                                      return wl_client_post_no_memory(client);
                                  wl_resource_set_implementation(resource, &manager_impl, data, nullptr);
                              });
    server.commit_gate->set(CommitGate::Stage::ExplicitSync, [this](Commit& commit) { check_commit(commit); });
}

Impl::~Impl()
{
    server.commit_gate->set(CommitGate::Stage::ExplicitSync, {});
    if (global)
        wl_global_destroy(global);
}

LinuxDrmSyncobjV1::LinuxDrmSyncobjV1(Server& server)
{
    if (server.timelines)
        impl_ = std::make_unique<Impl>(server);
}

LinuxDrmSyncobjV1::~LinuxDrmSyncobjV1() = default;

} // namespace syncway
