// B5 (second figure): the compositor's CPU time per frame to sample a 1920x1080 XRGB8888
// dmabuf client buffer, beside the same content in wl_shm (the baseline), same run, same
// client behaviour: two buffers alternating, full damage, one commit per frame callback.
//   bench-heaps-dmabuf-sample SYNCWAY_BINARY [FRAMES]   (default 300 frames a round)
#include "compositor_process.hpp"
#include "dmabuf_client.hpp"

#include "syncway/heaps/allocator.hpp"
#include "syncway/heaps/buffer_layout.hpp"

#include <wayland-client.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace syncway::heaps;
using namespace syncway::heaps::test;

namespace {

constexpr uint32_t width = 1920, height = 1080;

struct Mode {
    const char* name;
    std::vector<wl_buffer*> buffers;
    double cpu_seconds = 0;
    int frames = 0;
};

// Presents `frames` frames alternating the mode's buffers; adds the compositor's CPU time.
bool run_round(DmabufClient& client, CompositorProcess& compositor, Mode& mode, int frames)
{
    double before = compositor.cpu_seconds();
    for (int i = 0; i < frames; ++i) {
        if (!client.present(mode.buffers[static_cast<size_t>(i) % mode.buffers.size()]))
            return false;
    }
    mode.cpu_seconds += compositor.cpu_seconds() - before;
    mode.frames += frames;
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SYNCWAY_BINARY [FRAMES]\n", argv[0]);
        return 2;
    }
    int frames = argc > 2 ? std::atoi(argv[2]) : 300;
    if (frames < 1)
        return 2;
    CompositorProcess compositor(argv[1], std::to_string(width) + "x" + std::to_string(height));
    if (!compositor.error().empty()) {
        std::fprintf(stderr, "%s\n", compositor.error().c_str());
        return 1;
    }
    compositor.export_environment();
    DmabufClient client;
    if (!client.error().empty() || !client.map_window()) {
        std::fprintf(stderr, "client: %s\n", client.error().empty() ? "no configure" : client.error().c_str());
        return 1;
    }

    const FormatInfo& xrgb = *find_format("XRGB8888");
    auto layout = compute_layout(static_cast<uint32_t>(xrgb.format), width, height);
    Allocator allocator;
    std::vector<Buffer> keep;
    Mode shm{"wl_shm"}, dmabuf{"dmabuf"}, memfd_dmabuf{"dmabuf-memfd"};
    std::string dmabuf_backend;
    for (int i = 0; i < 2; ++i) {
        // wl_shm: a plain memfd, as shm clients make them
        AllocationRequest request;
        request.size = layout->alloc_size;
        request.backend = BackendChoice::Memfd;
        auto shm_buffer = allocator.allocate(request);
        request.backend = BackendChoice::Auto;
        auto dma_buffer = allocator.allocate(request);
        if (!shm_buffer || !dma_buffer) {
            std::fprintf(stderr, "allocation failed\n");
            return 1;
        }
        for (Buffer* b : {&shm_buffer.value(), &dma_buffer.value()}) {
            auto map = b->map();
            if (!map)
                return 1;
            fill_quadrants(map->data(), xrgb, width, height, layout->stride);
        }
        dmabuf_backend = to_string(dma_buffer->backend);
        shm.buffers.push_back(client.create_shm_buffer(shm_buffer->fd.get(), static_cast<uint32_t>(shm_buffer->size),
                                                       width, height, layout->stride, WL_SHM_FORMAT_XRGB8888));
        wl_buffer* d = client.create_buffer({PlaneSpec{dma_buffer->fd.get(), 0, 0, layout->stride, 0}}, width, height,
                                            static_cast<uint32_t>(xrgb.format), true);
        if (!d) {
            std::fprintf(stderr, "the compositor refused the dmabuf\n");
            return 1;
        }
        dmabuf.buffers.push_back(d);
        // the same protocol over a plain memfd: separates the protocol path from the memory
        if (dma_buffer->backend != Backend::Memfd) {
            wl_buffer* m = client.create_buffer({PlaneSpec{shm_buffer->fd.get(), 0, 0, layout->stride, 0}}, width,
                                                height, static_cast<uint32_t>(xrgb.format), true);
            if (!m)
                return 1;
            memfd_dmabuf.buffers.push_back(m);
        }
        keep.push_back(std::move(shm_buffer.value()));
        keep.push_back(std::move(dma_buffer.value()));
    }

    // warm-up, then interleaved rounds so drift in the machine's load hits both alike
    if (!run_round(client, compositor, shm, 30) || !run_round(client, compositor, dmabuf, 30))
        return 1;
    shm.cpu_seconds = dmabuf.cpu_seconds = 0;
    shm.frames = dmabuf.frames = 0;
    for (int round = 0; round < 2; ++round) {
        bool ok = run_round(client, compositor, shm, frames / 2) && run_round(client, compositor, dmabuf, frames / 2) &&
                  (memfd_dmabuf.buffers.empty() || run_round(client, compositor, memfd_dmabuf, frames / 2));
        if (!ok) {
            std::fprintf(stderr, "a frame never came\n");
            return 1;
        }
    }
    double shm_us = shm.cpu_seconds / shm.frames * 1e6;
    double dma_us = dmabuf.cpu_seconds / dmabuf.frames * 1e6;
    std::printf("B5 compositor CPU per frame sampling a %ux%u XRGB8888 client buffer (syncway headless, pixman), "
                "%d frames each\n",
                width, height, shm.frames);
    std::printf("%-28s %10.1f us/frame\n", "wl_shm (baseline)", shm_us);
    std::printf("%-28s %10.1f us/frame   ratio %.2f\n", ("linux-dmabuf (" + dmabuf_backend + ")").c_str(), dma_us,
                dma_us / shm_us);
    if (memfd_dmabuf.frames) {
        double m_us = memfd_dmabuf.cpu_seconds / memfd_dmabuf.frames * 1e6;
        std::printf("%-28s %10.1f us/frame   ratio %.2f\n", "linux-dmabuf (memfd)", m_us, m_us / shm_us);
    }
    for (Mode* m : {&shm, &dmabuf, &memfd_dmabuf})
        for (wl_buffer* b : m->buffers)
            wl_buffer_destroy(b);
    client.roundtrip();
    return 0;
}
