#include "linux_dmabuf_v1.hpp"

#include "../c_boundary.hpp"
#include "../server.hpp"
#include "linux-dmabuf-unstable-v1-protocol.h"

#include <syncway/heaps/buffer_layout.hpp>
#include <syncway/heaps/cpu_access.hpp>
#include <syncway/heaps/fd_info.hpp>
#include <syncway/mapping.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <array>
#include <string>

namespace syncway {
namespace {

constexpr uint64_t modifier_linear = 0;                    // DRM_FORMAT_MOD_LINEAR
constexpr uint64_t modifier_invalid = 0x00ffffffffffffffULL; // DRM_FORMAT_MOD_INVALID (implicit)
constexpr uint32_t max_planes = 4;

// ---- wl_buffer: a CPU-mapped linear dma-buf (or sealed memfd) as a wlr_buffer -------------

struct DmabufBuffer;

// Standard-layout, so the wlr_buffer wlroots hands back converts to it (DmabufBuffer itself
// holds C++ members and is not).
struct WlrBufferHandle {
    wlr_buffer base;
    DmabufBuffer* owner;
};

struct DmabufBuffer {
    WlrBufferHandle handle{{}, this};
    wlr_buffer& base = handle.base;
    wl_resource* resource = nullptr;
    UniqueFd fd;
    Charge fd_charge;  // against --limit-dmabuf-fds and the fd budget
    Mapping mapping;  // the whole image, mapped once at import
    uint32_t offset = 0;
    uint32_t stride = 0;
    uint32_t format = 0;
    bool is_dmabuf = false;
    std::optional<heaps::CpuAccess> access;  // the DMA_BUF_IOCTL_SYNC bracket while sampled
    Listener release;
};

DmabufBuffer* buffer_from_wlr(wlr_buffer* base)
{
    return reinterpret_cast<WlrBufferHandle*>(base)->owner;
}

void buffer_destroy(wlr_buffer* base) { delete buffer_from_wlr(base); }

bool buffer_begin_access(wlr_buffer* base, uint32_t flags, void** data, uint32_t* format, size_t* stride)
{
    DmabufBuffer* buffer = buffer_from_wlr(base);
    // The client owns the pixels; we map them read-only.
    if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE)
        return false;
    if (buffer->is_dmabuf) {
        // SYNC_START would block on pending writers without a timeout. Commits with pending
        // writers were held back until those finished (ImplicitWait); a client writing into a
        // buffer it already committed gets tearing, never a frozen compositor.
        auto ready = heaps::wait_for_fences(buffer->fd.get(), heaps::Access::Read, 0);
        if (ready.ok() && ready.value()) {
            auto access = heaps::CpuAccess::begin(buffer->fd.get(), heaps::Access::Read);
            if (access)
                buffer->access.emplace(std::move(access.value()));
        }
    }
    *data = buffer->mapping.as<unsigned char>() + buffer->offset;
    *format = buffer->format;
    *stride = buffer->stride;
    return true;
}

void buffer_end_access(wlr_buffer* base) { buffer_from_wlr(base)->access.reset(); }

// The dma-buf itself, for KMS to scan out directly (compositor/direct_scanout.hpp): wlroots'
// DRM backend imports it with PRIME and AddFB2. Our renderer never asks (it has no dma-buf
// texture formats, or this protocol would not be ours); a memfd offers none.
bool buffer_get_dmabuf(wlr_buffer* base, wlr_dmabuf_attributes* attribs)
{
    DmabufBuffer* buffer = buffer_from_wlr(base);
    if (!buffer->is_dmabuf)
        return false;
    *attribs = {};
    attribs->width = base->width;
    attribs->height = base->height;
    attribs->format = buffer->format;
    attribs->modifier = modifier_linear;  // the only layout import() accepts
    attribs->n_planes = 1;
    attribs->offset[0] = buffer->offset;
    attribs->stride[0] = buffer->stride;
    attribs->fd[0] = buffer->fd.get();  // borrowed: the buffer keeps it
    return true;
}

const wlr_buffer_impl buffer_impl = {
    .destroy = buffer_destroy,
    .get_dmabuf = buffer_get_dmabuf,
    .get_shm = nullptr,
    .begin_data_ptr_access = buffer_begin_access,
    .end_data_ptr_access = buffer_end_access,
};

void handle_buffer_destroy_request(wl_client*, wl_resource* resource) { wl_resource_destroy(resource); }

const struct wl_buffer_interface wl_buffer_impl = {.destroy = handle_buffer_destroy_request};

void handle_buffer_resource_destroyed(wl_resource* resource)
{
    auto* buffer = static_cast<DmabufBuffer*>(wl_resource_get_user_data(resource));
    buffer->resource = nullptr;
    buffer->release.disconnect();
    wlr_buffer_drop(&buffer->base);  // the producer is gone; freed when the last lock goes
}

bool resource_is_ours(wl_resource* resource)
{
    return wl_resource_instance_of(resource, &wl_buffer_interface, &wl_buffer_impl);
}

wlr_buffer* buffer_from_resource(wl_resource* resource)
{
    return &static_cast<DmabufBuffer*>(wl_resource_get_user_data(resource))->base;
}

const wlr_buffer_resource_interface buffer_resource_interface = {
    .name = "syncway_linux_dmabuf_v1",
    .is_instance = resource_is_ours,
    .from_resource = buffer_from_resource,
};

// ---- zwp_linux_buffer_params_v1 ---------------------------------------------------------

struct Plane {
    UniqueFd fd;
    Charge fd_charge;  // against --limit-dmabuf-fds and the fd budget
    uint32_t offset = 0;
    uint32_t stride = 0;
    uint64_t modifier = 0;
};

struct Params {
    std::array<std::optional<Plane>, max_planes> planes;
    bool used = false;
    std::vector<LinuxDmabufV1::Format> formats;  // a copy: params may outlive nothing else
    ClientLedger* ledger = nullptr;
};

// Why a buffer is refused: `fatal` ones are client bugs the protocol names (errors on the
// params object); the others are import failures (`failed`, or invalid_wl_buffer for
// create_immed).
struct Refusal {
    bool fatal;
    uint32_t code;
    std::string message;
};

Params* params_from(wl_resource* resource) { return static_cast<Params*>(wl_resource_get_user_data(resource)); }

void handle_params_destroy(wl_client*, wl_resource* resource) { wl_resource_destroy(resource); }

void handle_params_add(wl_client* client, wl_resource* resource, int32_t fd, uint32_t plane_idx, uint32_t offset,
                       uint32_t stride, uint32_t modifier_hi, uint32_t modifier_lo)
{
    UniqueFd owned(fd);  // closed on every error path
    Params* params = params_from(resource);
    if (params->used) {
        wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
                               "params already used to create a buffer");
        return;
    }
    if (plane_idx >= max_planes) {
        wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX,
                               "plane index %u is out of bounds (at most %u planes)", plane_idx, max_planes);
        return;
    }
    if (params->planes[plane_idx]) {
        wl_resource_post_error(resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_SET, "plane %u is already set",
                               plane_idx);
        return;
    }
    auto charge = params->ledger->charge(client, ClientResource::DmabufFds);
    if (!charge) {
        pid_t pid = 0;
        wl_client_get_credentials(client, &pid, nullptr, nullptr);
        wlr_log(WLR_INFO, "linux-dmabuf: client pid %d refused: %s", pid, charge.error().message.c_str());
        wl_client_post_implementation_error(client, "linux-dmabuf: %s", charge.error().message.c_str());
        return;
    }
    params->planes[plane_idx] = Plane{std::move(owned), std::move(charge.value()), offset, stride,
                                      (uint64_t{modifier_hi} << 32) | modifier_lo};
}

// Validates the request and maps the plane. On success `out` holds the new buffer.
std::optional<Refusal> import(Params& params, uint32_t version, int32_t width, int32_t height, uint32_t format,
                              uint32_t flags, std::unique_ptr<DmabufBuffer>& out)
{
    if (!params.planes[0])
        return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE, "plane 0 is missing"};
    for (uint32_t i = 1; i < max_planes; ++i) {
        if (params.planes[i])
            return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE,
                           "plane " + std::to_string(i) + " given, but format " + heaps::fourcc_name(format) +
                               " has one plane"};
    }
    const LinuxDmabufV1::Format* info = nullptr;
    for (const auto& f : params.formats)
        if (f.fourcc == format)
            info = &f;
    if (!info)
        return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
                       "format " + heaps::fourcc_name(format) + " is not supported"};
    Plane& plane = *params.planes[0];
    // Clients before version 3 cannot name modifiers; their implicit one is linear here.
    bool linear = plane.modifier == modifier_linear || (version < 3 && plane.modifier == modifier_invalid);
    if (!linear) {
        char hex[32];
        std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(plane.modifier));
        return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT,
                       "modifier " + std::string(hex) + " is not supported (only LINEAR)"};
    }
    if (width <= 0 || height <= 0)
        return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS,
                       "invalid size " + std::to_string(width) + "x" + std::to_string(height)};

    auto fd_info = heaps::inspect_fd(plane.fd.get());
    if (!fd_info)
        return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER, fd_info.error().message};
    switch (fd_info->kind) {
    case heaps::FdKind::DmaBuf: {
        heaps::CpuAccessPlan plan = heaps::plan_cpu_access(fd_info.value());
        if (!plan.mappable)
            return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
                           "the CPU renderer cannot map it: " + plan.reason};
        break;
    }
    case heaps::FdKind::Memfd:
        // Without the seal the client could shrink it under our mapping (SIGBUS).
        if (!(fd_info->seals & F_SEAL_SHRINK))
            return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
                           "a memfd must be sealed with F_SEAL_SHRINK"};
        break;
    case heaps::FdKind::Other:
        return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
                       "the fd is neither a dma-buf nor a sealed memfd"};
    }

    uint64_t row = uint64_t{static_cast<uint32_t>(width)} * info->bytes_per_pixel;
    uint64_t end = uint64_t{plane.offset} + uint64_t{plane.stride} * static_cast<uint32_t>(height);
    if (plane.stride < row)
        return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
                       "stride " + std::to_string(plane.stride) + " is less than a row of " +
                           std::to_string(width) + " pixels (" + std::to_string(row) + " bytes)"};
    if (end > fd_info->size)
        return Refusal{true, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS,
                       "offset " + std::to_string(plane.offset) + " + stride " + std::to_string(plane.stride) +
                           " x height " + std::to_string(height) + " = " + std::to_string(end) +
                           " exceeds the buffer's " + std::to_string(fd_info->size) + " bytes"};
    if (plane.stride % 4 != 0)
        return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
                       "the CPU renderer needs a stride that is a multiple of 4"};
    if (flags != 0)
        return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
                       "y-inverted and interlaced buffers are not supported"};

    Mapping mapping = Mapping::map(plane.fd.get(), end, PROT_READ, MAP_SHARED);
    if (!mapping)
        return Refusal{false, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
                       std::string("cannot map the buffer: ") + std::strerror(errno)};

    auto buffer = std::make_unique<DmabufBuffer>();
    wlr_buffer_init(&buffer->base, &buffer_impl, width, height);
    buffer->fd = std::move(plane.fd);
    buffer->fd_charge = std::move(plane.fd_charge);
    buffer->mapping = std::move(mapping);
    buffer->offset = plane.offset;
    buffer->stride = plane.stride;
    buffer->format = format;
    buffer->is_dmabuf = fd_info->kind == heaps::FdKind::DmaBuf;
    out = std::move(buffer);
    return std::nullopt;
}

// create (buffer_id 0: answer with created/failed) and create_immed (the client chose the id).
void create_buffer(wl_client* client, wl_resource* params_resource, uint32_t buffer_id, int32_t width,
                   int32_t height, uint32_t format, uint32_t flags)
{
    Params* params = params_from(params_resource);
    if (params->used) {
        wl_resource_post_error(params_resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED,
                               "params already used to create a buffer");
        return;
    }
    params->used = true;

    std::unique_ptr<DmabufBuffer> buffer;
    std::optional<Refusal> refusal;
    try {
        refusal = import(*params, wl_resource_get_version(params_resource), width, height, format, flags, buffer);
    } catch (const std::exception&) {
        wl_client_post_no_memory(client);
        return;
    }
    if (refusal) {
        wlr_log(WLR_INFO, "linux-dmabuf: refusing a %dx%d %s buffer: %s", width, height, heaps::fourcc_name(format).c_str(),
                refusal->message.c_str());
        if (refusal->fatal)
            wl_resource_post_error(params_resource, refusal->code, "%s", refusal->message.c_str());
        else if (buffer_id == 0)
            zwp_linux_buffer_params_v1_send_failed(params_resource);
        else
            wl_resource_post_error(params_resource, ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER, "%s",
                                   refusal->message.c_str());
        return;
    }

    wl_resource* resource = wl_resource_create(client, &wl_buffer_interface, 1, buffer_id);
    if (!resource) {
        wlr_buffer_drop(&buffer.release()->base);
        wl_client_post_no_memory(client);
        return;
    }
    DmabufBuffer* raw = buffer.release();
    raw->resource = resource;
    wl_resource_set_implementation(resource, &wl_buffer_impl, raw, handle_buffer_resource_destroyed);
    raw->release.connect(&raw->base.events.release, [raw](void*) {
        if (raw->resource)
            wl_buffer_send_release(raw->resource);
    });
    if (buffer_id == 0)
        zwp_linux_buffer_params_v1_send_created(params_resource, resource);
}

void handle_params_create(wl_client* client, wl_resource* resource, int32_t width, int32_t height, uint32_t format,
                          uint32_t flags)
{
    create_buffer(client, resource, 0, width, height, format, flags);
}

void handle_params_create_immed(wl_client* client, wl_resource* resource, uint32_t buffer_id, int32_t width,
                                int32_t height, uint32_t format, uint32_t flags)
{
    create_buffer(client, resource, buffer_id, width, height, format, flags);
}

const struct zwp_linux_buffer_params_v1_interface params_impl = {
    .destroy = handle_params_destroy,
    .add = handle_params_add,
    .create = handle_params_create,
    .create_immed = handle_params_create_immed,
};

void handle_params_resource_destroyed(wl_resource* resource) { delete params_from(resource); }

// ---- zwp_linux_dmabuf_feedback_v1 and zwp_linux_dmabuf_v1 --------------------------------

LinuxDmabufV1* manager_from(wl_resource* resource)
{
    return static_cast<LinuxDmabufV1*>(wl_resource_get_user_data(resource));
}

void handle_destroy(wl_client*, wl_resource* resource) { wl_resource_destroy(resource); }

const struct zwp_linux_dmabuf_feedback_v1_interface feedback_impl = {.destroy = handle_destroy};

void handle_create_params(wl_client* client, wl_resource* resource, uint32_t id)
{
    wl_resource* params_resource =
        wl_resource_create(client, &zwp_linux_buffer_params_v1_interface, wl_resource_get_version(resource), id);
    if (!params_resource) {
        wl_client_post_no_memory(client);
        return;
    }
    Params* params = nullptr;
    try {
        params = new Params();
        params->formats = manager_from(resource)->formats();
        params->ledger = &manager_from(resource)->ledger();
    } catch (const std::exception&) {
        delete params;
        wl_resource_destroy(params_resource);
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(params_resource, &params_impl, params, handle_params_resource_destroyed);
}

void create_feedback(wl_client* client, wl_resource* resource, uint32_t id)
{
    wl_resource* feedback =
        wl_resource_create(client, &zwp_linux_dmabuf_feedback_v1_interface, wl_resource_get_version(resource), id);
    if (!feedback) {
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(feedback, &feedback_impl, nullptr, nullptr);
    try {
        manager_from(resource)->send_feedback(feedback);
    } catch (const std::exception&) {
        wl_client_post_no_memory(client);
    }
}

void handle_get_default_feedback(wl_client* client, wl_resource* resource, uint32_t id)
{
    create_feedback(client, resource, id);
}

// One tranche for every surface: the CPU renderer has no preference that depends on it.
void handle_get_surface_feedback(wl_client* client, wl_resource* resource, uint32_t id, wl_resource*)
{
    create_feedback(client, resource, id);
}

const struct zwp_linux_dmabuf_v1_interface dmabuf_impl = {
    .destroy = handle_destroy,
    .create_params = handle_create_params,
    .get_default_feedback = handle_get_default_feedback,
    .get_surface_feedback = handle_get_surface_feedback,
};

void bind_trampoline(wl_client* client, void* data, uint32_t version, uint32_t id)
{
    try {
        static_cast<LinuxDmabufV1*>(data)->bind(client, version, id);
    } catch (const std::exception&) {
        wl_client_post_no_memory(client);
    }
}

struct FormatTableEntry {
    uint32_t format;
    uint32_t padding;
    uint64_t modifier;
};

// A sealed, read-only-to-everyone memfd holding the feedback's format table.
UniqueFd make_format_table(const std::vector<LinuxDmabufV1::Format>& formats, size_t& size)
{
    std::vector<FormatTableEntry> entries;
    for (const auto& f : formats)
        entries.push_back({f.fourcc, 0, modifier_linear});
    size = entries.size() * sizeof(FormatTableEntry);
    UniqueFd fd(memfd_create("syncway-dmabuf-format-table", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd)
        return {};
    const auto* bytes = reinterpret_cast<const char*>(entries.data());
    for (size_t done = 0; done < size;) {
        ssize_t n = ::write(fd.get(), bytes + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return {};
        done += static_cast<size_t>(n);
    }
    if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
        return {};
    return fd;
}

} // namespace

// ---- implicit sync: a commit whose dma-buf still has writers waits for them -------------

class LinuxDmabufV1::ImplicitWait {
public:
    ImplicitWait(LinuxDmabufV1& owner, Commit& commit, UniqueFd fd)
        : owner_(owner), surface_(commit.surface()), fd_(std::move(fd)), seq_(commit.hold())
    {
        source_.reset(wl_event_loop_add_fd(owner_.server_.event_loop(), fd_.get(), WL_EVENT_READABLE, &on_ready, this));
        surface_destroy_.connect(&surface_->events.destroy, [this](void*) { owner_.end(this, false); });
    }
    bool waiting() const noexcept { return source_ != nullptr; }
    void apply() { owner_.server_.commit_gate->release(surface_, seq_); }

private:
    static int on_ready(int, uint32_t, void* data)
    {
        auto* wait = static_cast<ImplicitWait*>(data);
        at_c_boundary("implicit-sync wait", nullptr, [wait] { wait->owner_.end(wait, true); });
        return 0;
    }

    LinuxDmabufV1& owner_;
    wlr_surface* surface_;
    UniqueFd fd_;  // a dup of the buffer's: the wait does not depend on the buffer's lifetime
    uint32_t seq_ = 0;
    EventSourcePtr source_;
    Listener surface_destroy_;
};

void LinuxDmabufV1::end(ImplicitWait* wait, bool apply)
{
    for (auto it = waits_.begin(); it != waits_.end(); ++it) {
        if (it->get() != wait)
            continue;
        std::unique_ptr<ImplicitWait> owned = std::move(*it);
        waits_.erase(it);
        // Applying runs the surface's commit listeners (and whatever they do): the wait is
        // already out of the list by then.
        if (apply)
            owned->apply();
        return;
    }
}

void LinuxDmabufV1::check_commit(Commit& commit)
{
    if (commit.explicit_sync)
        return;  // the surface's acquire points say when its buffers are ready
    wlr_buffer* attached = commit.attached_buffer();
    if (!attached || attached->impl != &buffer_impl)
        return;
    DmabufBuffer* buffer = buffer_from_wlr(attached);
    if (!buffer->is_dmabuf)
        return;
    auto ready = heaps::wait_for_fences(buffer->fd.get(), heaps::Access::Read, 0);
    if (!ready.ok() || ready.value())
        return;
    UniqueFd fd(fcntl(buffer->fd.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) {
        wlr_log(WLR_ERROR, "linux-dmabuf: cannot wait for a buffer's writers (dup: %s); presenting it now",
                std::strerror(errno));
        return;
    }
    waits_.push_back(std::make_unique<ImplicitWait>(*this, commit, std::move(fd)));
    if (!waits_.back()->waiting()) {
        wlr_log(WLR_ERROR, "linux-dmabuf: cannot poll a buffer's fences; presenting it now");
        end(waits_.back().get(), true);
    }
}

// ---- the global -------------------------------------------------------------------------

bool is_linux_dmabuf_v1_buffer(wlr_buffer* buffer) { return buffer->impl == &buffer_impl; }

ClientLedger& LinuxDmabufV1::ledger() const { return *server_.ledger; }

LinuxDmabufV1::LinuxDmabufV1(Server& server) : server_(server)
{
    wlr_renderer* renderer = server.renderer.get();
    if (wlr_renderer_get_dmabuf_texture_formats(renderer))
        return;  // the renderer imports dma-bufs: wlroots' own linux-dmabuf is in place

    size_t count = 0;
    const uint32_t* shm_formats = wlr_renderer_get_shm_texture_formats(renderer, &count);
    for (size_t i = 0; i < count; ++i) {
        if (const heaps::FormatInfo* f = heaps::find_format(shm_formats[i]))
            formats_.push_back({shm_formats[i], f->bytes_per_pixel});
    }
    if (formats_.empty()) {
        wlr_log(WLR_ERROR, "linux-dmabuf: the renderer samples no format we can map; not advertised");
        return;
    }

    int drm_fd = wlr_renderer_get_drm_fd(renderer);
    if (drm_fd < 0)
        drm_fd = wlr_backend_get_drm_fd(server.backend.backend.get());
    struct stat st {};
    if (drm_fd >= 0 && fstat(drm_fd, &st) == 0)
        main_device_ = st.st_rdev;
    if (main_device_) {
        format_table_ = make_format_table(formats_, format_table_size_);
        if (!format_table_) {
            wlr_log(WLR_ERROR, "linux-dmabuf: cannot build the feedback format table (%s); advertising v3",
                    std::strerror(errno));
            main_device_.reset();
        }
    }
    version_ = main_device_ ? 4 : 3;

    wlr_buffer_register_resource_interface(&buffer_resource_interface);
    global_ = wl_global_create(server.display.get(), &zwp_linux_dmabuf_v1_interface, static_cast<int>(version_),
                               this, bind_trampoline);
    if (!global_) {
        wlr_log(WLR_ERROR, "linux-dmabuf: cannot create the global");
        return;
    }
    server.commit_gate->set(CommitGate::Stage::ImplicitSync, [this](Commit& commit) { check_commit(commit); });
    wlr_log(WLR_INFO, "linux-dmabuf v%u for the CPU renderer: %zu linear formats%s", version_, formats_.size(),
            main_device_ ? ", feedback names the DRM device" : ", no DRM device (no feedback)");
}

LinuxDmabufV1::~LinuxDmabufV1()
{
    server_.commit_gate->set(CommitGate::Stage::ImplicitSync, {});
    waits_.clear();
    if (global_)
        wl_global_destroy(global_);
}

void LinuxDmabufV1::bind(wl_client* client, uint32_t version, uint32_t id)
{
    wl_resource* resource = wl_resource_create(client, &zwp_linux_dmabuf_v1_interface, static_cast<int>(version), id);
    if (!resource) {
        wl_client_post_no_memory(client);
        return;
    }
    wl_resource_set_implementation(resource, &dmabuf_impl, this, nullptr);
    if (version >= 4)
        return;  // formats come with feedback
    for (const Format& f : formats_) {
        if (version >= 3)
            zwp_linux_dmabuf_v1_send_modifier(resource, f.fourcc, 0, 0);  // LINEAR
        else
            zwp_linux_dmabuf_v1_send_format(resource, f.fourcc);
    }
}

void LinuxDmabufV1::send_feedback(wl_resource* feedback)
{
    zwp_linux_dmabuf_feedback_v1_send_format_table(feedback, format_table_.get(),
                                                   static_cast<uint32_t>(format_table_size_));
    dev_t device = main_device_.value_or(0);
    wl_array device_array{sizeof device, sizeof device, &device};
    zwp_linux_dmabuf_feedback_v1_send_main_device(feedback, &device_array);
    zwp_linux_dmabuf_feedback_v1_send_tranche_target_device(feedback, &device_array);
    std::vector<uint16_t> indices(formats_.size());
    for (size_t i = 0; i < indices.size(); ++i)
        indices[i] = static_cast<uint16_t>(i);
    wl_array index_array{indices.size() * sizeof(uint16_t), indices.size() * sizeof(uint16_t), indices.data()};
    zwp_linux_dmabuf_feedback_v1_send_tranche_formats(feedback, &index_array);
    zwp_linux_dmabuf_feedback_v1_send_tranche_flags(feedback, 0);
    zwp_linux_dmabuf_feedback_v1_send_tranche_done(feedback);
    zwp_linux_dmabuf_feedback_v1_send_done(feedback);
}

} // namespace syncway
