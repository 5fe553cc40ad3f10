#include "image_sharing.hpp"

#include "device_support.hpp"
#include "wayland_connection.hpp"

#include <syncway/heaps/allocator.hpp>
#include <syncway/heaps/buffer_layout.hpp>

namespace syncway::wsi {

uint32_t drm_format_of_shm(uint32_t shm_format)
{
    switch (shm_format) {
    case WL_SHM_FORMAT_ARGB8888:
        return uint32_t(heaps::PixelFormat::ARGB8888);
    case WL_SHM_FORMAT_XRGB8888:
        return uint32_t(heaps::PixelFormat::XRGB8888);
    default:
        return shm_format;
    }
}

SharingChoice choose_image_sharing(const WaylandConnection& connection, const DeviceSupport& device,
                                   uint32_t shm_format)
{
    const uint32_t drm_format = drm_format_of_shm(shm_format);
    const std::string format = heaps::fourcc_name(drm_format);
    if (!connection.dmabuf())
        return {ImageSharing::Shm, "memfds through wl_shm: the compositor does not advertise zwp_linux_dmabuf_v1 "
                                   "(version 3 or later)"};
    if (!connection.has_dmabuf_linear_format(drm_format))
        return {ImageSharing::Shm, "memfds through wl_shm: the compositor's zwp_linux_dmabuf_v1 does not list " +
                                       format + " with the LINEAR modifier"};

    // Which dma-buf source heaps/ would use (the same order as its allocator: heap, udmabuf).
    std::string missing;
    for (const heaps::BackendStatus& status : heaps::Allocator().probe()) {
        if (status.backend == heaps::Backend::Memfd)
            break;
        if (status.available) {
            std::string import = device.dmabuf_import
                                     ? "its CPU mapping imported into the device as host memory"
                                     : "its CPU mapping imported into the device as host memory, as the device "
                                       "has no VK_EXT_external_memory_dma_buf";
            std::string source = status.backend == heaps::Backend::Heap ? "dma-buf " + status.detail
                                                                        : "udmabuf (" + status.detail + ")";
            return {ImageSharing::Dmabuf, "dma-bufs from " + source + " through zwp_linux_dmabuf_v1 (" + format +
                                              ", LINEAR), " + import};
        }
        missing += (missing.empty() ? "" : "; ") + std::string(heaps::to_string(status.backend)) + ": " + status.detail;
    }
    return {ImageSharing::Shm, "memfds through wl_shm: no dma-buf source on this machine (" + missing + ")"};
}

} // namespace syncway::wsi
