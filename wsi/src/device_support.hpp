// Whether the layer takes over presentation for a physical device, and what it needs to know
// about the device to do so.
//
// The layer acts only for devices without native Wayland explicit sync. A driver's WSI can do
// explicit sync only with DRM syncobjs, which live on a DRM device node; a device that reports
// no DRM node (VK_EXT_physical_device_drm absent, or present with neither a primary nor a
// render node) therefore has none, whatever its driver's version. Software rasterizers
// (lavapipe, SwiftShader) are that case. The layer also needs VK_EXT_external_memory_host to
// put swapchain images in memory the compositor maps.
#pragma once

#include "dispatch.hpp"

#include <string>

namespace syncway::wsi {

struct DeviceSupport {
    bool acts = false;
    std::string description;  // "llvmpipe (Mesa 22.3.6)": for messages
    std::string reason;       // why the layer passes through; empty when it acts
    uint32_t api_version = 0; // the device's
    VkDeviceSize host_pointer_alignment = 0;
    // VK_EXT_external_memory_dma_buf: the device could import a dma-buf's fd itself. Only said
    // in the log: the layer imports every image's CPU mapping as host memory, which works for
    // dma-bufs and memfds alike (see image_sharing.hpp).
    bool dmabuf_import = false;
    uint32_t max_image_dimension = 0;
    VkPhysicalDeviceMemoryProperties memory{};
};

// `instance_api_version` is what the application asked for (0 means 1.0); features beyond 1.0
// are reached through the extensions the layer enabled on the instance.
DeviceSupport probe_device_support(const InstanceDispatch& vk, VkPhysicalDevice device, bool have_properties2);

} // namespace syncway::wsi
