#include "device_support.hpp"

#include <cstring>
#include <vector>

namespace syncway::wsi {

namespace {

std::vector<VkExtensionProperties> device_extensions(const InstanceDispatch& vk, VkPhysicalDevice device)
{
    uint32_t count = 0;
    if (vk.EnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr) != VK_SUCCESS)
        return {};
    std::vector<VkExtensionProperties> extensions(count);
    if (vk.EnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data()) < 0)
        return {};
    extensions.resize(count);
    return extensions;
}

bool has(const std::vector<VkExtensionProperties>& extensions, const char* name)
{
    for (const auto& e : extensions)
        if (std::strcmp(e.extensionName, name) == 0)
            return true;
    return false;
}

} // namespace

DeviceSupport probe_device_support(const InstanceDispatch& vk, VkPhysicalDevice device, bool have_properties2)
{
    DeviceSupport support;
    VkPhysicalDeviceProperties props{};
    vk.GetPhysicalDeviceProperties(device, &props);
    vk.GetPhysicalDeviceMemoryProperties(device, &support.memory);
    support.api_version = props.apiVersion;
    support.max_image_dimension = props.limits.maxImageDimension2D;
    support.description = props.deviceName;

    if (!have_properties2 || !vk.GetPhysicalDeviceProperties2) {
        support.reason = "the instance has neither Vulkan 1.1 nor VK_KHR_get_physical_device_properties2, "
                         "so the device's DRM node cannot be asked for";
        return support;
    }
    auto extensions = device_extensions(vk, device);
    const bool has_drm = has(extensions, VK_EXT_PHYSICAL_DEVICE_DRM_EXTENSION_NAME);
    const bool has_host_memory = has(extensions, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
    const bool has_driver_props = props.apiVersion >= VK_API_VERSION_1_2 ||
                                  has(extensions, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);

    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    VkPhysicalDeviceDrmPropertiesEXT drm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRM_PROPERTIES_EXT};
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceExternalMemoryHostPropertiesEXT host{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT};
    void** tail = &props2.pNext;
    auto chain = [&](auto& s) {
        *tail = &s;
        tail = &s.pNext;
    };
    if (has_drm)
        chain(drm);
    if (has_driver_props)
        chain(driver);
    if (has_host_memory)
        chain(host);
    vk.GetPhysicalDeviceProperties2(device, &props2);
    if (has_driver_props)
        support.description += std::string(" (") + driver.driverName + " " + driver.driverInfo + ")";

    if (has_drm && (drm.hasRender || drm.hasPrimary)) {
        support.reason = "the device has a DRM node (" + std::to_string(drm.hasRender ? drm.renderMajor : drm.primaryMajor) +
                         ":" + std::to_string(drm.hasRender ? drm.renderMinor : drm.primaryMinor) +
                         "), so its driver's WSI can use kernel syncobjs itself";
        return support;
    }
    if (!has_host_memory) {
        support.reason = "the device lacks VK_EXT_external_memory_host, which the layer needs to put swapchain "
                         "images in memory the compositor can map";
        return support;
    }
    support.host_pointer_alignment = host.minImportedHostPointerAlignment;
    support.dmabuf_import = has(extensions, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME);
    support.acts = true;
    return support;
}

} // namespace syncway::wsi
