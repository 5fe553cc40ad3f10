#include "recorder.hpp"

#include "../options.hpp"
#include "../commit_gate.hpp"
#include "../protocols/linux_dmabuf_v1.hpp"
#include "../server.hpp"

#include <record/json_line.hpp>
#include <record/png_image.hpp>
#include <syncobj/timeline_host.hpp>
#include <syncway/unique_fd.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cinttypes>
#include <cstring>
#include <optional>

// How a commit's record is put together (the schema is in docs/recording.md):
//  - wl_surface.commit, seen first at the commit gate (before wlroots handles it): client, surface,
//    role, buffer, commit time; linux-drm-syncobj-v1 adds the points (CommitObserver).
//  - the surface's `commit` signal (the state became current): applied time, and a hash of
//    the buffer's content when it carries a release point.
//  - an output's `commit` lists the surfaces the frame shows with the state each had; its
//    `present` makes those the commits' first (and latest) presentation.
//  - the release point signaled: release time, and a second hash taken just before, so a
//    client that wrote into the buffer between its acquire and release points is visible.
// A record is written once nothing can change it any more: a later commit replaced it (or
// the surface went), no frame that sampled it is still waiting for its present, and its
// release point (if any) was signaled. Whatever is open at exit is written then.

namespace syncway {

namespace so = syncobj;

namespace {


constexpr int kTraceVersion = 1;
// A client that commits faster than its commits can complete (e.g. never letting a release
// point fall due) must not grow our memory without bound: past this many open records on one
// surface, the oldest is written as it stands ("overflow": true).
constexpr size_t kMaxOpenRecordsPerSurface = 512;

int64_t ns_of(const timespec& ts) { return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec; }

std::string fourcc_name(uint32_t f)
{
    std::string s;
    for (int i = 0; i < 4; ++i) {
        char c = char((f >> (8 * i)) & 0xff);
        s += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    return s;
}

std::optional<uint64_t> hash_buffer(wlr_buffer* buffer)
{
    void* data = nullptr;
    uint32_t format = 0;
    size_t stride = 0;
    if (!wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride))
        return std::nullopt;  // only GPU-side memory: not hashed
    uint64_t h = record::content_hash(static_cast<const uint8_t*>(data), stride, stride, buffer->height);
    wlr_buffer_end_data_ptr_access(buffer);
    return h;
}

std::vector<std::string> read_cmdline(pid_t pid)
{
    std::vector<std::string> args;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/cmdline", int(pid));
    UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
    if (!fd)
        return args;
    char buf[4096];
    ssize_t n = read(fd.get(), buf, sizeof buf);
    std::string current;
    for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\0') {
            args.push_back(std::move(current));
            current.clear();
        } else {
            current += buf[i];
        }
    }
    if (!current.empty())
        args.push_back(std::move(current));
    return args;
}

} // namespace

struct Recorder::Impl {
    struct SurfaceTap;

    struct Record {
        SurfaceTap* tap = nullptr;  // null once the surface is gone
        wlr_surface* surface = nullptr;
        uint32_t client = 0;
        uint64_t surface_id = 0;
        uint32_t seq = 0;
        std::string role, title, app_id;
        bool has_buffer = false, buffer_null = false;
        std::string buffer_kind, buffer_format;
        int buffer_width = 0, buffer_height = 0;
        wlr_buffer* buffer = nullptr;  // while it lives (buffer_destroy)
        Listener buffer_destroy;
        bool has_acquire = false, has_release = false;
        uint64_t acquire_timeline = 0, acquire_point = 0, release_timeline = 0, release_point = 0;
        std::pair<const void*, uint64_t> release_key{};
        std::shared_ptr<so::HostedTimeline> acquire_tl;  // until applied
        bool acquire_signaled_at_commit = false, acquire_failed = false, applied_before_acquire = false;
        int64_t t_commit = 0, t_acquire_signaled = 0, t_unlock = 0, t_applied = 0, t_replaced_released = 0;
        int64_t t_presented = 0, t_last_presented = 0, t_release_signaled = 0;
        std::string presented_output;
        uint32_t presented_sequence = 0;
        std::optional<uint64_t> hash_applied, hash_released;
        bool superseded = false, surface_gone = false, overflow = false;
        int pending_frames = 0;
        // Only when a state was applied before its acquire point signaled (a broken
        // compositor): our own wait tells when it did.
        so::PointWait late_wait;
        EventSourcePtr late_source;
    };
    using RecordIt = std::list<Record>::iterator;

    struct SurfaceTap {
        Impl* impl = nullptr;
        wlr_surface* surface = nullptr;
        uint64_t id = 0;
        std::optional<uint32_t> current_seq;
        size_t open = 0;
        Listener commit, destroy;
    };

    struct ClientTap {
        Listener destroy;
        wl_client* client = nullptr;
        uint32_t id = 0;
    };

    struct OutputTap {
        Impl* impl = nullptr;
        wlr_output* output = nullptr;
        std::string name;
        bool first = false;  // the first output: --frames and --screenshot use it
        bool on = true;      // in the output layout (Output::on): off outputs present nothing
        bool pending = false;
        uint32_t pending_commit_seq = 0;
        std::vector<std::pair<wlr_surface*, uint32_t>> pending_surfaces;
        bool pending_changed = false;
        uint32_t sequence = 0;
        std::vector<uint8_t> last;  // XRGB8888 rows, width * 4 bytes each
        int width = 0, height = 0;
        bool warned = false;
        Listener commit, present, destroy;
    };

    Impl(Recorder& owner_, Server& server_, const Options& options)
        : owner(owner_), server(server_), dir(options.record_dir), screenshot(options.screenshot),
          frames(int(options.frames)), record_frames(options.record_frames && !options.record_dir.empty())
    {
    }

    bool start();
    void on_commit_request(wlr_surface* surface);
    void on_applied(SurfaceTap& tap);
    void on_surface_destroyed(SurfaceTap* tap);
    void add_output(wlr_output* output);
    // New outputs, and outputs turned off or on again (output management).
    void follow_outputs();
    void write_output_record(const OutputTap& tap);
    void on_output_commit(OutputTap& tap, wlr_output_event_commit* event);
    void on_output_present(OutputTap& tap, wlr_output_event_present* event);
    void capture(OutputTap& tap, wlr_buffer* buffer);
    void drop_pending_frame(OutputTap& tap);
    uint32_t client_id(wl_client* client);
    uint64_t timeline_id(const void* timeline);
    std::optional<RecordIt> find(wlr_surface* surface, uint32_t seq);
    void try_finish(RecordIt it, bool force = false);
    void write_record(const Record& r);
    void write(std::string line);

    Recorder& owner;
    Server& server;
    std::string dir, screenshot;
    int frames = 0;
    bool record_frames = false;
    bool tracing = false;
    UniqueFd trace;
    std::list<Record> records;
    std::map<std::pair<wlr_surface*, uint32_t>, RecordIt> by_seq;
    std::map<std::pair<const void*, uint64_t>, RecordIt> by_release;
    std::unordered_map<wlr_surface*, std::unique_ptr<SurfaceTap>> surfaces;
    std::unordered_map<wl_client*, std::unique_ptr<ClientTap>> clients;
    std::vector<std::unique_ptr<OutputTap>> outputs;
    std::unordered_map<const void*, uint64_t> timelines;
    uint64_t next_surface = 0;
    uint64_t next_timeline = 0;
    uint32_t next_client = 0;
    bool frames_reported = false;
    std::string end_reason = "shutdown";
    int end_status = 0;
    Listener new_surface, outputs_changed;
};

using Impl = Recorder::Impl;

void Impl::write(std::string line)
{
    if (!trace)
        return;
    // One write per record: a reader never sees half a line unless the disk is full.
    if (::write(trace.get(), line.data(), line.size()) != ssize_t(line.size())) {
        wlr_log(WLR_ERROR, "record: cannot write %s/trace.jsonl (%s): the trace ends here", dir.c_str(),
                std::strerror(errno));
        trace.reset();
    }
}

bool Impl::start()
{
    if (!dir.empty()) {
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            wlr_log(WLR_ERROR, "--record %s: cannot create the directory: %s", dir.c_str(), std::strerror(errno));
            return false;
        }
        std::string path = dir + "/trace.jsonl";
        trace.reset(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!trace) {
            wlr_log(WLR_ERROR, "--record %s: cannot create %s: %s", dir.c_str(), path.c_str(), std::strerror(errno));
            return false;
        }
        tracing = true;
        write(record::JsonLine()
                  .field("type", "header")
                  .field("version", kTraceVersion)
                  .field("clock", "CLOCK_MONOTONIC")
                  .field("unit", "ns")
                  .field("syncway", SYNCWAY_VERSION)
                  .field("t", CommitObserver::now_ns())
                  .finish());
        server.commit_observer = &owner;
        new_surface.connect(&server.compositor->events.new_surface, [this](void* data) {
            auto* surface = static_cast<wlr_surface*>(data);
            auto tap = std::make_unique<SurfaceTap>();
            tap->impl = this;
            tap->surface = surface;
            tap->id = ++next_surface;
            SurfaceTap* raw = tap.get();
            tap->commit.connect(&surface->events.commit, [this, raw](void*) { on_applied(*raw); });
            tap->destroy.connect(&surface->events.destroy, [this, raw](void*) { on_surface_destroyed(raw); });
            surfaces[surface] = std::move(tap);
        });
        // Runs first at the commit gate: the record exists before explicit sync adds its points.
        server.commit_gate->set(CommitGate::Stage::Record, [this](Commit& commit) { on_commit_request(commit.surface()); });
        wlr_log(WLR_INFO, "recording to %s (trace.jsonl and a PNG per changed frame)", dir.c_str());
    }
    outputs_changed.connect(&server.outputs_changed, [this](void*) { follow_outputs(); });
    return true;
}

void Impl::follow_outputs()
{
    for (auto& output : server.outputs) {
        OutputTap* tap = nullptr;
        for (auto& t : outputs)
            if (t->output == output->wlr())
                tap = t.get();
        if (!tap) {
            add_output(output->wlr());
            continue;
        }
        bool on = output->on();
        if (on == tap->on)
            continue;
        tap->on = on;
        // A frame committed before the output went off keeps its present (and its time is
        // before the off record's); nothing is committed on it after.
        if (on)
            write_output_record(*tap);
        else
            write(record::JsonLine()
                      .field("type", "output_off")
                      .field("name", tap->name)
                      .field("t", CommitObserver::now_ns())
                      .finish());
    }
}

void Impl::write_output_record(const OutputTap& tap)
{
    write(record::JsonLine()
              .field("type", "output")
              .field("name", tap.name)
              .field("width", tap.output->width)
              .field("height", tap.output->height)
              .field("refresh_mhz", tap.output->refresh)
              .field("scale_milli", int(tap.output->scale * 1000 + 0.5f))
              .field("t", CommitObserver::now_ns())
              .finish());
}

uint32_t Impl::client_id(wl_client* client)
{
    if (auto it = clients.find(client); it != clients.end())
        return it->second->id;
    auto tap = std::make_unique<ClientTap>();
    tap->client = client;
    tap->id = ++next_client;
    uint32_t id = tap->id;
    // Erasing the tap destroys the listener running this callback; nothing is touched after.
    tap->destroy.connect_with(wl_client_add_destroy_listener, client, [this, client, id](void*) {
        write(record::JsonLine().field("type", "client_gone").field("client", id).field("t", CommitObserver::now_ns()).finish());
        clients.erase(client);
    });
    pid_t pid = 0;
    wl_client_get_credentials(client, &pid, nullptr, nullptr);
    record::JsonLine line;
    line.field("type", "client").field("client", tap->id).field("pid", int64_t(pid)).key("cmdline").begin_array();
    for (const std::string& arg : read_cmdline(pid))
        line.value(arg);
    line.end_array().field("t", CommitObserver::now_ns());
    write(line.finish());
    clients[client] = std::move(tap);
    return id;
}

uint64_t Impl::timeline_id(const void* timeline)
{
    // Keyed by address: a timeline freed and another allocated at its address would share
    // an id, so the map is forgotten now and then (ids stay unique: the counter goes on),
    // which also bounds it against a client that imports timelines without end.
    if (timelines.size() >= 4096)
        timelines.clear();
    auto [it, added] = timelines.try_emplace(timeline, next_timeline + 1);
    if (added)
        ++next_timeline;
    return it->second;
}

std::optional<Impl::RecordIt> Impl::find(wlr_surface* surface, uint32_t seq)
{
    auto it = by_seq.find({surface, seq});
    if (it == by_seq.end())
        return std::nullopt;
    return it->second;
}

void Impl::on_commit_request(wlr_surface* surface)
{
    auto found = surfaces.find(surface);
    if (found == surfaces.end())
        return;
    SurfaceTap& tap = *found->second;
    Record& r = records.emplace_back();
    RecordIt it = std::prev(records.end());
    r.tap = &tap;
    r.surface = surface;
    r.client = client_id(wl_resource_get_client(surface->resource));
    r.surface_id = tap.id;
    r.seq = surface->pending.seq;
    r.t_commit = CommitObserver::now_ns();
    if (surface->role) {
        if (wlr_surface_is_xdg_surface(surface)) {
            wlr_xdg_surface* xdg = wlr_xdg_surface_from_wlr_surface(surface);
            if (xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
                r.role = "xdg_toplevel";
                r.title = xdg->toplevel->title ? xdg->toplevel->title : "";
                r.app_id = xdg->toplevel->app_id ? xdg->toplevel->app_id : "";
            } else {
                r.role = xdg->role == WLR_XDG_SURFACE_ROLE_POPUP ? "xdg_popup" : "xdg_surface";
            }
        } else if (wlr_surface_is_subsurface(surface)) {
            r.role = "subsurface";
        } else if (std::strcmp(surface->role->name, "wl_pointer-cursor") == 0) {
            r.role = "cursor";
        } else {
            r.role = surface->role->name;
        }
    }
    if (surface->pending.committed & WLR_SURFACE_STATE_BUFFER) {
        r.has_buffer = true;
        if (wlr_buffer* buffer = surface->pending.buffer) {
            r.buffer = buffer;
            r.buffer_width = buffer->width;
            r.buffer_height = buffer->height;
            wlr_dmabuf_attributes dmabuf{};
            void* data = nullptr;
            uint32_t format = 0;
            size_t stride = 0;
            if (wlr_buffer_get_dmabuf(buffer, &dmabuf)) {
                r.buffer_kind = "dmabuf";
                r.buffer_format = fourcc_name(dmabuf.format);
            } else if (wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format,
                                                        &stride)) {
                wlr_buffer_end_data_ptr_access(buffer);
                // syncway's own linux-dmabuf buffers (CPU renderer) offer no dma-buf to wlroots.
                r.buffer_kind = is_linux_dmabuf_v1_buffer(buffer) ? "dmabuf" : "shm";
                r.buffer_format = fourcc_name(format);
            } else {
                r.buffer_kind = "other";
            }
            r.buffer_destroy.connect(&buffer->events.destroy, [&r](void*) {
                r.buffer = nullptr;
                r.buffer_destroy.disconnect();
            });
        } else {
            r.buffer_null = true;
        }
    }
    by_seq[{surface, r.seq}] = it;
    if (++tap.open > kMaxOpenRecordsPerSurface)
        for (RecordIt old = records.begin(); old != records.end(); ++old)
            if (old->tap == &tap && old != it) {
                old->overflow = true;
                try_finish(old, true);
                break;
            }
}

void Impl::on_applied(SurfaceTap& tap)
{
    wlr_surface* surface = tap.surface;
    uint32_t seq = surface->current.seq;
    if (tap.current_seq && *tap.current_seq != seq)
        if (auto prev = find(surface, *tap.current_seq)) {
            (*prev)->superseded = true;
            tap.current_seq = seq;
            try_finish(*prev);
        }
    tap.current_seq = seq;
    auto found = find(surface, seq);
    if (!found)
        return;
    Record& r = **found;
    r.t_applied = CommitObserver::now_ns();
    // A held commit is hashed in acquire_resolved, once its timestamps are taken: hashing here
    // would sit between its unlock and applied times.
    bool held = r.has_acquire && !r.acquire_signaled_at_commit && !server.test_ignore_acquire;
    if (r.has_release && r.buffer && !held)
        r.hash_applied = hash_buffer(r.buffer);
    if (r.has_acquire && !r.acquire_signaled_at_commit && r.acquire_tl) {
        // Applied while the point may still be pending: only a compositor that does not hold
        // commits for their acquire point gets here with it unsignaled.
        auto status = r.acquire_tl->query(r.acquire_point);
        if (status && status->state != so::PointState::Signaled && status->state != so::PointState::Failed) {
            r.applied_before_acquire = true;
            if (auto wait = r.acquire_tl->wait(r.acquire_point)) {
                r.late_wait = std::move(wait.value());
                Record* raw = &r;
                r.late_source.reset(wl_event_loop_add_fd(
                    server.event_loop(), r.late_wait.fd(), WL_EVENT_READABLE,
                    [](int, uint32_t, void* data) {
                        auto* rec = static_cast<Record*>(data);
                        if (!rec->t_acquire_signaled)
                            rec->t_acquire_signaled = CommitObserver::now_ns();
                        rec->late_source.reset();
                        return 0;
                    },
                    raw));
            }
        }
    }
    if (!r.applied_before_acquire)
        r.acquire_tl.reset();
}

void Impl::on_surface_destroyed(SurfaceTap* tap)
{
    wlr_surface* surface = tap->surface;
    for (auto it = by_seq.lower_bound({surface, 0}); it != by_seq.end() && it->first.first == surface;) {
        RecordIt rec = it->second;
        it = by_seq.erase(it);
        rec->tap = nullptr;
        rec->surface = nullptr;
        rec->surface_gone = true;
        rec->superseded = true;
        try_finish(rec);
    }
    surfaces.erase(surface);
}

void Impl::try_finish(RecordIt it, bool force)
{
    Record& r = *it;
    if (!force && !(r.superseded && r.pending_frames == 0 && (!r.has_release || r.t_release_signaled)))
        return;
    write_record(r);
    if (r.surface)
        by_seq.erase({r.surface, r.seq});
    if (r.has_release && !r.t_release_signaled)
        if (auto rel = by_release.find(r.release_key); rel != by_release.end() && rel->second == it)
            by_release.erase(rel);
    if (r.tap)
        --r.tap->open;
    for (auto& out : outputs)
        std::erase_if(out->pending_surfaces,
                      [&](auto& p) { return r.surface && p.first == r.surface && p.second == r.seq; });
    records.erase(it);
}

void Impl::write_record(const Record& r)
{
    record::JsonLine line;
    line.field("type", "commit").field("client", r.client).field("surface", r.surface_id).field("seq", r.seq);
    line.key("role");
    r.role.empty() ? line.null() : line.value(r.role);
    if (r.role == "xdg_toplevel")
        line.field("title", r.title).field("app_id", r.app_id);
    line.key("buffer");
    if (!r.has_buffer) {
        line.value("unchanged");
    } else if (r.buffer_null) {
        line.null();
    } else {
        line.begin_object()
            .field("kind", r.buffer_kind)
            .field("width", r.buffer_width)
            .field("height", r.buffer_height)
            .field("format", r.buffer_format)
            .end_object();
    }
    auto point = [&](const char* name, bool has, uint64_t timeline, uint64_t p) {
        line.key(name);
        if (has)
            line.begin_object().field("timeline", timeline).field("point", p).end_object();
        else
            line.null();
    };
    point("acquire", r.has_acquire, r.acquire_timeline, r.acquire_point);
    point("release", r.has_release, r.release_timeline, r.release_point);
    line.key("t_commit").time(r.t_commit);
    line.key("t_acquire_signaled").time(r.t_acquire_signaled);
    if (r.has_acquire)
        line.field("acquire_signaled_at_commit", r.acquire_signaled_at_commit)
            .field("acquire_failed", r.acquire_failed);
    line.key("t_unlock").time(r.t_unlock);
    line.key("t_applied").time(r.t_applied);
    line.key("t_replaced_released").time(r.t_replaced_released);
    line.key("presented");
    if (r.t_presented)
        line.begin_object()
            .field("output", r.presented_output)
            .field("sequence", r.presented_sequence)
            .field("t", r.t_presented)
            .end_object();
    else
        line.null();
    line.key("t_last_presented").time(r.t_last_presented);
    line.key("t_release_signaled").time(r.t_release_signaled);
    char hex[17];
    line.key("hash_applied");
    if (r.hash_applied) {
        std::snprintf(hex, sizeof hex, "%016" PRIx64, *r.hash_applied);
        line.value(std::string_view(hex));
    } else {
        line.null();
    }
    line.key("hash_released");
    if (r.hash_released) {
        std::snprintf(hex, sizeof hex, "%016" PRIx64, *r.hash_released);
        line.value(std::string_view(hex));
    } else {
        line.null();
    }
    line.field("surface_gone", r.surface_gone);
    if (r.overflow)
        line.field("overflow", true);
    write(line.finish());
}

void Impl::add_output(wlr_output* output)
{
    auto tap = std::make_unique<OutputTap>();
    tap->impl = this;
    tap->output = output;
    tap->name = output->name;
    tap->first = outputs.empty();
    OutputTap* raw = tap.get();
    tap->commit.connect(&output->events.commit,
                        [this, raw](void* data) { on_output_commit(*raw, static_cast<wlr_output_event_commit*>(data)); });
    tap->present.connect(&output->events.present, [this, raw](void* data) {
        on_output_present(*raw, static_cast<wlr_output_event_present*>(data));
    });
    tap->destroy.connect(&output->events.destroy, [this, raw](void*) {
        drop_pending_frame(*raw);
        raw->output = nullptr;
        raw->commit.disconnect();
        raw->present.disconnect();
        raw->destroy.disconnect();
    });
    tap->on = true;  // Server adds outputs to the layout as they come
    write_output_record(*tap);
    outputs.push_back(std::move(tap));
}

void Impl::drop_pending_frame(OutputTap& tap)
{
    if (!tap.pending)
        return;
    tap.pending = false;
    auto surfaces_shown = std::move(tap.pending_surfaces);
    tap.pending_surfaces.clear();
    for (auto& [surface, seq] : surfaces_shown)
        if (auto found = find(surface, seq)) {
            --(*found)->pending_frames;
            try_finish(*found);
        }
}

void Impl::on_output_commit(OutputTap& tap, wlr_output_event_commit* event)
{
    if (!(event->committed & WLR_OUTPUT_STATE_BUFFER) || !event->buffer)
        return;
    drop_pending_frame(tap);  // its present never came
    tap.pending = true;
    tap.pending_commit_seq = tap.output->commit_seq;
    if (tracing)
        if (wlr_scene_output* scene_output = wlr_scene_get_scene_output(server.scene.get(), tap.output))
            wlr_scene_output_for_each_surface(
                scene_output,
                [](wlr_surface* surface, int, int, void* data) {
                    auto* t = static_cast<OutputTap*>(data);
                    Impl* self = t->impl;
                    auto found = self->surfaces.find(surface);
                    if (found == self->surfaces.end() || !found->second->current_seq)
                        return;
                    uint32_t seq = *found->second->current_seq;
                    if (auto rec = self->find(surface, seq)) {
                        ++(*rec)->pending_frames;
                        t->pending_surfaces.emplace_back(surface, seq);
                    }
                },
                &tap);
    tap.pending_changed = false;
    if (record_frames || (!screenshot.empty() && tap.first))
        capture(tap, event->buffer);
}

void Impl::capture(OutputTap& tap, wlr_buffer* buffer)
{
    int width = buffer->width, height = buffer->height;
    size_t row = size_t(width) * 4;
    bool resized = width != tap.width || height != tap.height;
    if (resized) {
        tap.last.assign(row * size_t(height), 0);
        tap.width = width;
        tap.height = height;
    }
    void* data = nullptr;
    uint32_t format = 0;
    size_t stride = 0;
    if (wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data, &format, &stride)) {
        if (format != DRM_FORMAT_XRGB8888 && format != DRM_FORMAT_ARGB8888) {
            wlr_buffer_end_data_ptr_access(buffer);
            if (!tap.warned)
                wlr_log(WLR_ERROR, "record: output %s renders %s, not XRGB8888: its frames are not recorded",
                        tap.name.c_str(), fourcc_name(format).c_str());
            tap.warned = true;
            return;
        }
        // Compare before copying: most frames of a test change little or nothing.
        bool changed = resized;
        const auto* src = static_cast<const uint8_t*>(data);
        for (int y = 0; y < height; ++y) {
            uint8_t* dst = tap.last.data() + size_t(y) * row;
            if (changed || std::memcmp(dst, src + size_t(y) * stride, row) != 0) {
                changed = true;
                std::memcpy(dst, src + size_t(y) * stride, row);
            }
        }
        wlr_buffer_end_data_ptr_access(buffer);
        tap.pending_changed = changed || tap.sequence == 0;
        return;
    }
    // GPU buffers: read back through the renderer.
    std::vector<uint8_t> pixels(row * size_t(height));
    wlr_renderer* renderer = server.renderer.get();
    bool read = wlr_renderer_begin_with_buffer(renderer, buffer);
    if (read) {
        read = wlr_renderer_read_pixels(renderer, DRM_FORMAT_XRGB8888, nullptr, uint32_t(row), uint32_t(width),
                                        uint32_t(height), 0, 0, 0, 0, pixels.data());
        wlr_renderer_end(renderer);
    }
    if (!read) {
        if (!tap.warned)
            wlr_log(WLR_ERROR, "record: cannot read back output %s's frames: they are not recorded", tap.name.c_str());
        tap.warned = true;
        return;
    }
    tap.pending_changed = resized || tap.sequence == 0 || pixels != tap.last;
    if (tap.pending_changed)
        tap.last = std::move(pixels);
}

void Impl::on_output_present(OutputTap& tap, wlr_output_event_present* event)
{
    if (!tap.pending || event->commit_seq != tap.pending_commit_seq)
        return;
    if (!event->presented) {
        drop_pending_frame(tap);
        return;
    }
    tap.pending = false;
    int64_t when = event->when ? ns_of(*event->when) : CommitObserver::now_ns();
    uint32_t sequence = ++tap.sequence;
    record::JsonLine line;
    line.field("type", "frame").field("output", tap.name).field("sequence", sequence).field("t", when);
    line.key("file");
    if (tap.pending_changed && record_frames && !tap.last.empty()) {
        char name[300];
        std::snprintf(name, sizeof name, "%s-%06u.png", tap.name.c_str(), sequence);
        if (Status s = record::write_png(dir + "/" + name, tap.last.data(), tap.width, tap.height,
                                         size_t(tap.width) * 4, record::PixelLayout::Xrgb8888Le);
            s)
            line.value(std::string_view(name));
        else {
            wlr_log(WLR_ERROR, "record: %s", s.error().message.c_str());
            line.null();
        }
    } else {
        line.null();
    }
    line.key("surfaces").begin_array();
    auto shown = std::move(tap.pending_surfaces);
    tap.pending_surfaces.clear();
    for (auto& [surface, seq] : shown) {
        auto found = find(surface, seq);
        if (!found)
            continue;
        Record& r = **found;
        line.begin_object().field("client", r.client).field("surface", r.surface_id).field("seq", seq).end_object();
        if (!r.t_presented) {
            r.t_presented = when;
            r.presented_output = tap.name;
            r.presented_sequence = sequence;
        }
        r.t_last_presented = when;
    }
    line.end_array();
    write(line.finish());
    for (auto& [surface, seq] : shown)
        if (auto found = find(surface, seq)) {
            --(*found)->pending_frames;
            try_finish(*found);
        }
    if (tap.first && frames > 0 && sequence >= uint32_t(frames) && !frames_reported) {
        frames_reported = true;
        if (owner.frames_reached_)
            owner.frames_reached_();
    }
}

// ---- Recorder ------------------------------------------------------------------------------

Recorder::Recorder(Server& server, const Options& options) : impl_(std::make_unique<Impl>(*this, server, options))
{
    ok_ = impl_->start();
}

Recorder::~Recorder()
{
    // After the clients and linux-drm-syncobj-v1 are gone (Server's teardown order): every
    // release point that will ever be signaled has been, so the last records are complete.
    Impl& impl = *impl_;
    for (auto& out : impl.outputs)
        impl.drop_pending_frame(*out);
    while (!impl.records.empty())
        impl.try_finish(impl.records.begin(), true);
    impl.write(record::JsonLine()
                   .field("type", "end")
                   .field("reason", impl.end_reason)
                   .field("status", impl.end_status)
                   .field("t", CommitObserver::now_ns())
                   .finish());
    if (impl.server.commit_observer == this)
        impl.server.commit_observer = nullptr;
    impl.server.commit_gate->set(CommitGate::Stage::Record, {});
    impl.clients.clear();
}

bool Recorder::finish(const char* reason, int status)
{
    Impl& impl = *impl_;
    impl.end_reason = reason;
    impl.end_status = status;
    if (impl.screenshot.empty())
        return true;
    Impl::OutputTap* first = impl.outputs.empty() ? nullptr : impl.outputs.front().get();
    if (!first || first->last.empty()) {
        wlr_log(WLR_ERROR, "--screenshot %s: no frame was presented", impl.screenshot.c_str());
        return false;
    }
    if (Status s = record::write_png(impl.screenshot, first->last.data(), first->width, first->height,
                                     size_t(first->width) * 4, record::PixelLayout::Xrgb8888Le);
        !s) {
        wlr_log(WLR_ERROR, "--screenshot: %s", s.error().message.c_str());
        return false;
    }
    return true;
}

void Recorder::sync_points(wlr_surface* surface, uint32_t seq, const std::shared_ptr<so::HostedTimeline>& acquire_timeline,
                           uint64_t acquire, const so::HostedTimeline* release_timeline, uint64_t release,
                           bool acquire_signaled)
{
    auto found = impl_->find(surface, seq);
    if (!found)
        return;
    Impl::Record& r = **found;
    r.has_acquire = r.has_release = true;
    r.acquire_timeline = impl_->timeline_id(acquire_timeline.get());
    r.acquire_point = acquire;
    r.acquire_tl = acquire_timeline;
    r.release_timeline = impl_->timeline_id(release_timeline);
    r.release_point = release;
    r.release_key = {release_timeline, release};
    r.acquire_signaled_at_commit = acquire_signaled;
    if (acquire_signaled)
        r.t_acquire_signaled = r.t_commit;
    impl_->by_release[r.release_key] = *found;
}

void Recorder::acquire_resolved(wlr_surface* surface, uint32_t seq, bool signaled, int64_t woke_ns,
                                int64_t unlock_ns, int64_t applied_ns, int64_t released_ns)
{
    auto found = impl_->find(surface, seq);
    if (!found)
        return;
    Impl::Record& r = **found;
    if (signaled)
        r.t_acquire_signaled = woke_ns;
    r.acquire_failed = !signaled;
    r.t_unlock = unlock_ns;
    r.t_applied = applied_ns;
    r.t_replaced_released = released_ns;
    if (signaled && r.has_release && r.buffer && r.t_applied && !r.hash_applied)
        r.hash_applied = hash_buffer(r.buffer);
}

void Recorder::releasing(wlr_buffer* buffer)
{
    for (Impl::Record& r : impl_->records)
        if (r.buffer == buffer && r.has_release && !r.t_release_signaled && !r.hash_released && r.hash_applied)
            r.hash_released = hash_buffer(buffer);
}

void Recorder::release_signaled(const so::HostedTimeline* timeline, uint64_t point)
{
    auto it = impl_->by_release.find({timeline, point});
    if (it == impl_->by_release.end())
        return;
    Impl::RecordIt rec = it->second;
    impl_->by_release.erase(it);
    rec->t_release_signaled = CommitObserver::now_ns();
    impl_->try_finish(rec);
}

} // namespace syncway
