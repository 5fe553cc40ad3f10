// One swapchain image: a LINEAR VkImage whose memory is a shared-memory buffer (from heaps/)
// mapped into this process and imported with VK_EXT_external_memory_host, the wl_buffer the
// compositor reads the same pages through (linux-dmabuf or wl_shm: image_sharing.hpp), its
// fence, and its release timeline.
#pragma once

#include "image_sharing.hpp"
#include "layer_state.hpp"

#include <syncway/mapping.hpp>

#include <string>

struct wp_linux_drm_syncobj_timeline_v1;

namespace syncway::wsi {

struct ImageParams {
    VkFormat format;
    VkExtent2D extent;
    VkImageUsageFlags usage;
    VkImageCreateFlags flags;
    VkSharingMode sharing;
    uint32_t queue_family_count;
    const uint32_t* queue_families;
    uint32_t shm_format;
    ImageSharing path; // dma-buf or wl_shm (image_sharing.hpp)
};

class SwapchainImage {
public:
    // Everything created, or an error code with *error naming what failed. On the dma-buf
    // path, an image whose buffer could not be a dma-buf after all (heaps/ fell back to a
    // memfd) is shared through wl_shm, and *note says why; a dma-buf the compositor refuses
    // (or does not answer for) fails with VK_ERROR_FORMAT_NOT_SUPPORTED (the swapchain then
    // retries with wl_shm), a connection lost meanwhile with VK_ERROR_SURFACE_LOST_KHR.
    static VkResult create(Device& device, WaylandConnection& connection, const ImageParams& params,
                           std::unique_ptr<SwapchainImage>* out, std::string* error, std::string* note);
    ~SwapchainImage();
    SwapchainImage(const SwapchainImage&) = delete;
    SwapchainImage& operator=(const SwapchainImage&) = delete;

    VkImage image() const { return image_; }
    VkFence fence() const { return fence_; }
    wl_buffer* buffer() const { return buffer_; }
    int release_fd() const { return release_fd_; }
    wp_linux_drm_syncobj_timeline_v1* release_timeline() const { return release_timeline_; }
    uint32_t width() const { return width_; }
    uint32_t height() const { return height_; }

private:
    SwapchainImage(Device& device, WaylandConnection& connection) : device_(device), connection_(connection) {}

    Device& device_;
    WaylandConnection& connection_;
    VkImage image_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    Mapping mapping_;
    wl_buffer* buffer_ = nullptr;
    int release_fd_ = -1;
    wp_linux_drm_syncobj_timeline_v1* release_timeline_ = nullptr;
    uint32_t width_ = 0, height_ = 0;
};

} // namespace syncway::wsi
