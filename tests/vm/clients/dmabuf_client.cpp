// vm-dmabuf-client: a window of one known colour whose buffer is a kernel dma-buf, presented
// through linux-dmabuf: a dumb buffer of a DRM card (virtio_gpu, vgem, ...) or a
// /dev/dma_heap/system buffer, written on the CPU through its dma-buf mapping.
//
// Prints "presented WxH" once the compositor has shown the frame (its frame callback fired),
// then stays until killed, so the screen can be checked. With --fence (vgem only) the frame
// is committed with an unsignaled vgem write fence in the buffer; the client prints
// "committed", reports whether a frame callback came while the fence was unsignaled, waits
// for a line on stdin, signals the fence, and prints "presented" when the frame callback
// follows.
#include "dmabuf_client.hpp"

#include "../probes/dumb_buffer.hpp"
#include "../probes/vgem_buffer.hpp"

#include <syncway/heaps/allocator.hpp>
#include <syncway/heaps/buffer_layout.hpp>
#include <syncway/heaps/cpu_access.hpp>
#include <syncway/mapping.hpp>

#include <sys/mman.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

namespace {

using syncway::heaps::test::DmabufClient;
using syncway::heaps::test::PlaneSpec;

constexpr uint32_t drm_format_xrgb8888 = 0x34325258;  // 'XR24'

int usage(const char* why)
{
    if (why)
        std::fprintf(stderr, "vm-dmabuf-client: %s\n", why);
    std::fprintf(why ? stderr : stdout,
                 "usage: vm-dmabuf-client --source heap|vgem|DRIVER --color RRGGBB [--fence]\n"
                 "  --source heap    a /dev/dma_heap/system buffer\n"
                 "  --source DRIVER  a dumb buffer on the card DRIVER drives (virtio_gpu, vgem, ...)\n"
                 "  --fence          (vgem) commit with an unsignaled write fence; signal it on a line of stdin\n");
    return why ? 2 : 0;
}

// A dma-buf of at least `size` bytes and the vgem buffer behind it, when there is one.
struct Source {
    syncway::UniqueFd heap_fd;
    std::optional<syncway::vm::DumbBuffer> dumb;
    std::optional<syncway::vm::VgemBuffer> vgem;
    uint32_t stride = 0;
    uint64_t size = 0;

    int fd() const { return vgem ? vgem->dmabuf() : dumb ? dumb->dmabuf() : heap_fd.get(); }
};

syncway::Result<Source> allocate(const std::string& source, uint32_t width, uint32_t height)
{
    Source s;
    if (source == "heap") {
        auto layout = syncway::heaps::compute_layout(drm_format_xrgb8888, width, height);
        if (!layout)
            return layout.error();
        syncway::heaps::AllocationRequest request;
        request.size = layout->alloc_size;
        request.backend = syncway::heaps::BackendChoice::Heap;
        request.debug_name = "vm-dmabuf-client";
        auto buffer = syncway::heaps::Allocator().allocate(request);
        if (!buffer)
            return buffer.error();
        s.heap_fd = std::move(buffer->fd);
        s.stride = layout->stride;
        s.size = buffer->size;
    } else if (source == "vgem") {
        auto buffer = syncway::vm::VgemBuffer::create(width, height);
        if (!buffer)
            return buffer.error();
        s.vgem.emplace(std::move(buffer.value()));
        s.stride = s.vgem->stride();
        s.size = s.vgem->size();
    } else {
        auto buffer = syncway::vm::DumbBuffer::create(source, width, height);
        if (!buffer)
            return buffer.error();
        s.dumb.emplace(std::move(buffer.value()));
        s.stride = s.dumb->stride();
        s.size = s.dumb->size();
    }
    return s;
}

// Writes the colour through the dma-buf's own mapping, bracketed by DMA_BUF_IOCTL_SYNC.
syncway::Status fill(const Source& s, uint32_t width, uint32_t height, uint32_t rgb)
{
    syncway::Mapping map = syncway::Mapping::map(s.fd(), s.size, PROT_READ | PROT_WRITE);
    if (!map.valid())
        return syncway::make_error(errno, std::string("mmap of the dma-buf: ") + std::strerror(errno));
    auto access = syncway::heaps::CpuAccess::begin(s.fd(), syncway::heaps::Access::Write);
    if (!access)
        return access.error();
    uint32_t pixel = 0xff000000u | rgb;
    for (uint32_t y = 0; y < height; ++y) {
        auto* row = reinterpret_cast<uint32_t*>(map.as<unsigned char>() + size_t{y} * s.stride);
        for (uint32_t x = 0; x < width; ++x)
            row[x] = pixel;
    }
    return access->end();
}

double now_ms()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

} // namespace

int main(int argc, char** argv)
{
    std::string source, colour;
    bool fence = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--source" && i + 1 < argc)
            source = argv[++i];
        else if (arg == "--color" && i + 1 < argc)
            colour = argv[++i];
        else if (arg == "--fence")
            fence = true;
        else if (arg == "--help")
            return usage(nullptr);
        else
            return usage(("unknown or incomplete argument '" + arg + "'").c_str());
    }
    char* end = nullptr;
    unsigned long rgb = std::strtoul(colour.c_str(), &end, 16);
    if (source.empty() || colour.size() != 6 || *end)
        return usage("--source and --color RRGGBB are required");
    if (fence && source != "vgem")
        return usage("--fence needs --source vgem (vgem's fence ioctls)");

    DmabufClient client;
    if (!client.error().empty() || !client.map_window()) {
        std::fprintf(stderr, "vm-dmabuf-client: %s\n",
                     client.error().empty() ? "no configure for the window" : client.error().c_str());
        return 1;
    }
    // The toplevel fills the output: the configured size, or a default when the client chooses.
    uint32_t width = client.configured_width() > 0 ? static_cast<uint32_t>(client.configured_width()) : 640;
    uint32_t height = client.configured_height() > 0 ? static_cast<uint32_t>(client.configured_height()) : 480;

    auto allocated = allocate(source, width, height);
    if (!allocated) {
        std::fprintf(stderr, "vm-dmabuf-client: %s buffer: %s\n", source.c_str(), allocated.error().message.c_str());
        return 1;
    }
    Source& s = allocated.value();
    if (auto filled = fill(s, width, height, static_cast<uint32_t>(rgb)); !filled) {
        std::fprintf(stderr, "vm-dmabuf-client: writing the %s buffer: %s\n", source.c_str(),
                     filled.error().message.c_str());
        return 1;
    }
    bool failed = false;
    PlaneSpec plane{s.fd(), 0, 0, s.stride, 0};
    wl_buffer* buffer = client.create_buffer({plane}, static_cast<int32_t>(width), static_cast<int32_t>(height),
                                             drm_format_xrgb8888, false, &failed);
    if (!buffer) {
        std::fprintf(stderr, "vm-dmabuf-client: the compositor %s the %s dma-buf\n",
                     failed ? "refused (failed)" : "did not answer for", source.c_str());
        return 1;
    }

    if (!fence) {
        if (!client.present(buffer, true, 30000)) {
            std::fprintf(stderr, "vm-dmabuf-client: no frame callback within 30 s\n");
            return 1;
        }
        std::printf("presented %ux%u from a %s dma-buf (stride %u)\n", width, height, source.c_str(), s.stride);
    } else {
        auto fence_id = s.vgem->attach_write_fence();
        if (!fence_id) {
            std::fprintf(stderr, "vm-dmabuf-client: %s\n", fence_id.error().message.c_str());
            return 1;
        }
        if (!client.present(buffer, false)) {
            std::fprintf(stderr, "vm-dmabuf-client: the connection died on commit\n");
            return 1;
        }
        std::printf("committed %ux%u with an unsignaled vgem write fence\n", width, height);
        std::fflush(stdout);
        // The frame callback belongs to the held commit: none may come while the fence is pending.
        if (client.wait_frame(1000))
            std::printf("EARLY: a frame callback came while the write fence was unsignaled\n");
        else
            std::printf("no frame callback for 1 s while the write fence was unsignaled\n");
        std::fflush(stdout);
        std::string line;
        std::getline(std::cin, line);
        double signaled = now_ms();
        if (auto sig = s.vgem->signal_fence(fence_id.value()); !sig) {
            std::fprintf(stderr, "vm-dmabuf-client: %s\n", sig.error().message.c_str());
            return 1;
        }
        if (!client.frame_done() && !client.wait_frame(30000)) {
            std::fprintf(stderr, "vm-dmabuf-client: no frame callback within 30 s of the fence signaling\n");
            return 1;
        }
        std::printf("presented %ux%u, frame callback %.1f ms after the fence signaled\n", width, height,
                    now_ms() - signaled);
    }
    std::fflush(stdout);
    while (wl_display_dispatch(client.display()) >= 0) {
    }
    return 0;
}
