// What the layer's swapchains offer on a surface it handles: capabilities, formats and present
// modes, derived from what the device can do with LINEAR images in imported host memory and
// from the wl_shm formats the compositor advertises.
#pragma once

#include "layer_state.hpp"

#include <vector>

namespace syncway::wsi {

// The layer's image count bounds: three images let the application render one while the
// compositor shows another and a third waits; eight bounds the memory one swapchain holds.
inline constexpr uint32_t kMinImageCount = 3;
inline constexpr uint32_t kMaxImageCount = 8;

struct SurfaceFormatChoice {
    VkSurfaceFormatKHR format;
    uint32_t shm_opaque; // wl_shm format for VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
    uint32_t shm_alpha;  // ... for the premultiplied-alpha modes
};

struct SurfaceOffer {
    std::vector<SurfaceFormatChoice> formats;
    VkImageUsageFlags usage = 0;
    std::vector<VkPresentModeKHR> present_modes;
    uint32_t max_extent = 0;
};

SurfaceOffer surface_offer(Instance& instance, VkPhysicalDevice device, const WaylandConnection& connection);

void fill_capabilities(const SurfaceOffer& offer, VkSurfaceCapabilitiesKHR* caps);

// The wl_shm format for a swapchain's format and composite alpha; 0 with *found false if the
// layer does not offer the format.
uint32_t shm_format_for(const SurfaceOffer& offer, VkFormat format, VkCompositeAlphaFlagBitsKHR alpha, bool* found);

} // namespace syncway::wsi
