#include "surface_caps.hpp"

namespace syncway::wsi {

namespace {

// Vulkan formats whose bytes in memory are a wl_shm format (both little-endian packed).
struct Candidate {
    VkFormat format;
    uint32_t shm_opaque, shm_alpha;
};
constexpr Candidate candidates[] = {
    {VK_FORMAT_B8G8R8A8_SRGB, WL_SHM_FORMAT_XRGB8888, WL_SHM_FORMAT_ARGB8888},
    {VK_FORMAT_B8G8R8A8_UNORM, WL_SHM_FORMAT_XRGB8888, WL_SHM_FORMAT_ARGB8888},
    {VK_FORMAT_R8G8B8A8_SRGB, WL_SHM_FORMAT_XBGR8888, WL_SHM_FORMAT_ABGR8888},
    {VK_FORMAT_R8G8B8A8_UNORM, WL_SHM_FORMAT_XBGR8888, WL_SHM_FORMAT_ABGR8888},
};

VkImageUsageFlags usage_from_features(VkFormatFeatureFlags f)
{
    VkImageUsageFlags usage = 0;
    if (f & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT)
        usage |= VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT;
    if (f & VK_FORMAT_FEATURE_TRANSFER_SRC_BIT)
        usage |= VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    if (f & VK_FORMAT_FEATURE_TRANSFER_DST_BIT)
        usage |= VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    if (f & VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT)
        usage |= VK_IMAGE_USAGE_SAMPLED_BIT;
    if (f & VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT)
        usage |= VK_IMAGE_USAGE_STORAGE_BIT;
    return usage;
}

// Can a LINEAR image of this format and usage live in imported host memory?
bool importable(Instance& instance, VkPhysicalDevice device, VkFormat format, VkImageUsageFlags usage)
{
    VkPhysicalDeviceExternalImageFormatInfo external{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO};
    external.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
    VkPhysicalDeviceImageFormatInfo2 info{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2};
    info.pNext = &external;
    info.format = format;
    info.type = VK_IMAGE_TYPE_2D;
    info.tiling = VK_IMAGE_TILING_LINEAR;
    info.usage = usage;
    VkExternalImageFormatProperties external_props{VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES};
    VkImageFormatProperties2 props{VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2};
    props.pNext = &external_props;
    if (!instance.vk.GetPhysicalDeviceImageFormatProperties2 ||
        instance.vk.GetPhysicalDeviceImageFormatProperties2(device, &info, &props) != VK_SUCCESS)
        return false;
    return external_props.externalMemoryProperties.externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT;
}

} // namespace

SurfaceOffer surface_offer(Instance& instance, VkPhysicalDevice device, const WaylandConnection& connection)
{
    SurfaceOffer offer;
    offer.max_extent = instance.support(device).max_image_dimension;
    // The usage offered is what every offered format supports, so any combination of the
    // two that the application picks works.
    std::vector<std::pair<Candidate, VkImageUsageFlags>> usable;
    VkImageUsageFlags common = ~VkImageUsageFlags(0);
    for (const auto& c : candidates) {
        if (!connection.has_shm_format(c.shm_opaque) || !connection.has_shm_format(c.shm_alpha))
            continue;
        VkFormatProperties props{};
        instance.vk.GetPhysicalDeviceFormatProperties(device, c.format, &props);
        VkImageUsageFlags usage = usage_from_features(props.linearTilingFeatures);
        if (!(usage & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT))
            continue;
        usable.emplace_back(c, usage);
        common &= usage;
    }
    for (const auto& [c, usage] : usable)
        if (importable(instance, device, c.format, common))
            offer.formats.push_back({{c.format, VK_COLOR_SPACE_SRGB_NONLINEAR_KHR}, c.shm_opaque, c.shm_alpha});
    offer.usage = offer.formats.empty() ? 0 : common;
    offer.present_modes = {VK_PRESENT_MODE_FIFO_KHR, VK_PRESENT_MODE_MAILBOX_KHR, VK_PRESENT_MODE_IMMEDIATE_KHR};
    return offer;
}

void fill_capabilities(const SurfaceOffer& offer, VkSurfaceCapabilitiesKHR* caps)
{
    caps->minImageCount = kMinImageCount;
    caps->maxImageCount = kMaxImageCount;
    // A Wayland surface takes the size of the buffers attached to it: the swapchain decides.
    caps->currentExtent = {0xFFFFFFFFu, 0xFFFFFFFFu};
    caps->minImageExtent = {1, 1};
    caps->maxImageExtent = {offer.max_extent, offer.max_extent};
    caps->maxImageArrayLayers = 1;
    caps->supportedTransforms = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR;
    caps->currentTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR;
    caps->supportedCompositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR | VK_COMPOSITE_ALPHA_PRE_MULTIPLIED_BIT_KHR |
                                    VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR;
    caps->supportedUsageFlags = offer.usage;
}

uint32_t shm_format_for(const SurfaceOffer& offer, VkFormat format, VkCompositeAlphaFlagBitsKHR alpha, bool* found)
{
    for (const auto& f : offer.formats) {
        if (f.format.format == format) {
            *found = true;
            return alpha == VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR ? f.shm_opaque : f.shm_alpha;
        }
    }
    *found = false;
    return 0;
}

} // namespace syncway::wsi
