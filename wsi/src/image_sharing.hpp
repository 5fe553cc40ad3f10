// How a swapchain's images reach the compositor, chosen once per swapchain.
//
// Every image is LINEAR device memory that is really a shared buffer from heaps/, mapped into
// the application and imported into the device as host memory. What differs is the buffer and
// how the compositor is told about it:
//
// - Dmabuf: a dma-buf (a dma-buf heap, else udmabuf), shared as a zwp_linux_dmabuf_v1 buffer
//   with the LINEAR modifier. Taken when the compositor lists the format as LINEAR and heaps/
//   finds a dma-buf source on this machine. A real dma-buf is what compositors that sample
//   with a GPU can import, and what carries the kernel's own fences.
// - Shm: a sealed memfd shared as a wl_shm buffer. Taken otherwise (no dma-buf heap nor
//   udmabuf, or no LINEAR linux-dmabuf format), and when the compositor refuses a dma-buf.
//
// Mesa 22.3's lavapipe cannot import a dma-buf's fd (no VK_EXT_external_memory_dma_buf; its
// VK_KHR_external_memory_fd takes only its own opaque fds), so the mapping is what it imports in
// both cases; the choice is about the compositor's side.
#pragma once

#include <cstdint>
#include <string>

namespace syncway::wsi {

class WaylandConnection;
struct DeviceSupport;

enum class ImageSharing { Dmabuf, Shm };

struct SharingChoice {
    ImageSharing sharing = ImageSharing::Shm;
    std::string why; // for the swapchain's log line: which buffers, and why this path
};

// The DRM fourcc code of a wl_shm format (they agree except for the two oldest codes).
uint32_t drm_format_of_shm(uint32_t shm_format);

SharingChoice choose_image_sharing(const WaylandConnection& connection, const DeviceSupport& device,
                                   uint32_t shm_format);

} // namespace syncway::wsi
