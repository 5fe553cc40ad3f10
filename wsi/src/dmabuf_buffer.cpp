#include "dmabuf_buffer.hpp"

#include "wayland_connection.hpp"

#include "linux-dmabuf-unstable-v1-client-protocol.h"

#include <atomic>
#include <mutex>

namespace syncway::wsi {

namespace {

constexpr int64_t kAnswerTimeoutNs = 5'000'000'000;

// Written by the handlers, which may run on whichever thread dispatches the layer's queue.
struct Answer {
    std::atomic<bool> done{false};
    std::atomic<wl_buffer*> buffer{nullptr};
};

void created(void* data, zwp_linux_buffer_params_v1*, wl_buffer* buffer)
{
    auto* answer = static_cast<Answer*>(data);
    answer->buffer = buffer;
    answer->done = true;
}

void failed(void* data, zwp_linux_buffer_params_v1*)
{
    static_cast<Answer*>(data)->done = true;
}

const zwp_linux_buffer_params_v1_listener params_listener = {.created = created, .failed = failed};

} // namespace

wl_buffer* create_dmabuf_buffer(WaylandConnection& connection, const DmabufPlane& plane, uint32_t width,
                                uint32_t height, uint32_t drm_format, std::string* error, bool* lost)
{
    *lost = false;
    Answer answer;
    zwp_linux_buffer_params_v1* params = zwp_linux_dmabuf_v1_create_params(connection.dmabuf());
    zwp_linux_buffer_params_v1_add_listener(params, &params_listener, &answer);
    // DRM_FORMAT_MOD_LINEAR (0), as high and low halves.
    zwp_linux_buffer_params_v1_add(params, plane.fd, 0, plane.offset, plane.stride, 0, 0);
    zwp_linux_buffer_params_v1_create(params, int32_t(width), int32_t(height), drm_format, 0);
    auto wait = connection.dispatch_until([&] { return answer.done.load(); }, monotonic_ns() + kAnswerTimeoutNs);
    {
        // Its handlers point at `answer`, which ends here: no handler may run after this.
        std::lock_guard lock(connection.dispatch_mutex());
        zwp_linux_buffer_params_v1_destroy(params);
    }
    if (wait == WaylandConnection::Wait::Lost) {
        *lost = true;
        *error = "the Wayland connection failed while the compositor imported a dma-buf";
        return nullptr;
    }
    if (wait == WaylandConnection::Wait::TimedOut) {
        *error = "the compositor did not answer a linux-dmabuf import within 5 s";
        return nullptr;
    }
    if (!answer.buffer) {
        *error = "the compositor refused the dma-buf (zwp_linux_buffer_params_v1.failed)";
        return nullptr;
    }
    return answer.buffer;
}

} // namespace syncway::wsi
