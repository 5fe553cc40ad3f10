// Where each output's framebuffers (and so its cursor plane's buffer) come from: `--buffer-heap`
// resolved per output, since what works depends on the output (a KMS device may refuse dma-bufs
// it did not make; a nested output shares buffers with a parent compositor). One heap
// allocator per distinct source serves every output that resolves to it; they all live until
// the backend is gone, because wlroots' swapchains keep a pointer to their allocator.
#pragma once

#include "options.hpp"
#include "wlr_ptr.hpp"

#include <syncway/heaps/heap_selection.hpp>
#include <syncway/result.hpp>

#include <map>
#include <string>

namespace syncway {

class OutputBuffers {
public:
    // `wlroots_allocator`: wlr_allocator_autocreate's, for `none` and for what auto passes over.
    // `pixman`: the renderer draws on the CPU (heap buffers are for CPU rendering).
    OutputBuffers(heaps::HeapSelection selection, heaps::AllocatorPaths paths, wlr_allocator* wlroots_allocator,
                  bool pixman);
    OutputBuffers(const OutputBuffers&) = delete;
    OutputBuffers& operator=(const OutputBuffers&) = delete;

    struct Choice {
        wlr_allocator* allocator = nullptr;
        std::string description; // what the output got and why: logged once per output
    };
    // The allocator for `output`, whose framebuffers will be width x height XRGB8888: resolved
    // by allocating one such buffer (and, on KMS, importing it as a framebuffer). An error
    // only where the user named a heap or properties that cannot serve this output; `auto`
    // falls back (to udmabuf, memfd or wlroots' allocator) and says why in the description.
    Result<Choice> choose(wlr_output* output, int width, int height);

    const heaps::HeapSelection& selection() const noexcept { return selection_; }
    bool explicit_heap() const noexcept
    {
        return selection_.kind == heaps::HeapSelection::Kind::Named ||
               selection_.kind == heaps::HeapSelection::Kind::Properties;
    }

private:
    wlr_allocator* allocator_for(const heaps::BufferSource& source);

    heaps::HeapSelection selection_;
    heaps::Allocator allocator_;
    wlr_allocator* wlroots_allocator_;
    bool pixman_;
    std::map<std::string, AllocatorPtr> heap_allocators_; // by BufferSource::describe()
};

// Whether the output's DRM device takes a buffer of this layout as a framebuffer, as wlroots'
// DRM backend will ask it to (PRIME import, then AddFB2): an error naming the driver and the
// refusing step. The framebuffer and GEM handle are released again.
Status drm_imports(int drm_fd, int dmabuf_fd, uint32_t width, uint32_t height, uint32_t stride, uint32_t format);

} // namespace syncway
