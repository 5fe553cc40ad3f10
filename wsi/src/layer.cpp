// The loader-facing side: interface negotiation and the proc-address functions that put the
// layer's entry points into the call chain.
#include "entry_points.hpp"

#include <cstring>

namespace syncway::wsi {

namespace {

struct Entry {
    const char* name;
    PFN_vkVoidFunction function;
};

#define SYNCWAY_WSI_ENTRY(name) {"vk" #name, reinterpret_cast<PFN_vkVoidFunction>(&name)}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetInstanceProcAddr(VkInstance instance, const char* name);
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetDeviceProcAddr(VkDevice device, const char* name);

// Functions that take a VkDevice, VkQueue or VkCommandBuffer.
const Entry device_entries[] = {
    SYNCWAY_WSI_ENTRY(GetDeviceProcAddr),
    SYNCWAY_WSI_ENTRY(DestroyDevice),
    SYNCWAY_WSI_ENTRY(CreateSwapchainKHR),
    SYNCWAY_WSI_ENTRY(DestroySwapchainKHR),
    SYNCWAY_WSI_ENTRY(GetSwapchainImagesKHR),
    SYNCWAY_WSI_ENTRY(AcquireNextImageKHR),
    SYNCWAY_WSI_ENTRY(AcquireNextImage2KHR),
    SYNCWAY_WSI_ENTRY(QueuePresentKHR),
    SYNCWAY_WSI_ENTRY(GetSwapchainStatusKHR),
    SYNCWAY_WSI_ENTRY(GetDeviceGroupSurfacePresentModesKHR),
    SYNCWAY_WSI_ENTRY(QueueSubmit),
    SYNCWAY_WSI_ENTRY(QueueSubmit2),
    {"vkQueueSubmit2KHR", reinterpret_cast<PFN_vkVoidFunction>(&QueueSubmit2)},
    SYNCWAY_WSI_ENTRY(QueueWaitIdle),
    SYNCWAY_WSI_ENTRY(QueueBindSparse),
    SYNCWAY_WSI_ENTRY(DeviceWaitIdle),
};

// Functions that take a VkInstance or VkPhysicalDevice (or none).
const Entry instance_entries[] = {
    SYNCWAY_WSI_ENTRY(GetInstanceProcAddr),
    SYNCWAY_WSI_ENTRY(CreateInstance),
    SYNCWAY_WSI_ENTRY(DestroyInstance),
    SYNCWAY_WSI_ENTRY(CreateDevice),
    SYNCWAY_WSI_ENTRY(EnumerateDeviceExtensionProperties),
    SYNCWAY_WSI_ENTRY(CreateWaylandSurfaceKHR),
    SYNCWAY_WSI_ENTRY(DestroySurfaceKHR),
    SYNCWAY_WSI_ENTRY(GetPhysicalDeviceSurfaceCapabilitiesKHR),
    SYNCWAY_WSI_ENTRY(GetPhysicalDeviceSurfaceCapabilities2KHR),
    SYNCWAY_WSI_ENTRY(GetPhysicalDeviceSurfaceFormatsKHR),
    SYNCWAY_WSI_ENTRY(GetPhysicalDeviceSurfaceFormats2KHR),
    SYNCWAY_WSI_ENTRY(GetPhysicalDeviceSurfacePresentModesKHR),
};

template <size_t N> PFN_vkVoidFunction find(const Entry (&entries)[N], const char* name)
{
    for (const auto& e : entries)
        if (std::strcmp(e.name, name) == 0)
            return e.function;
    return nullptr;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetDeviceProcAddr(VkDevice handle, const char* name)
{
    Device* device = registry().device(dispatch_key(handle));
    if (!device)
        return nullptr;
    // A device the layer does not act for sees the driver directly (no queue lock either).
    if (device->acts || std::strcmp(name, "vkGetDeviceProcAddr") == 0 || std::strcmp(name, "vkDestroyDevice") == 0) {
        if (auto f = find(device_entries, name)) {
            // Only what the next layer provides: an application asks for extension
            // functions it did not enable and must get null for them.
            if (!device->vk.GetDeviceProcAddr(handle, name))
                return nullptr;
            return f;
        }
    }
    return device->vk.GetDeviceProcAddr(handle, name);
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetInstanceProcAddr(VkInstance handle, const char* name)
{
    if (auto f = find(instance_entries, name))
        return f;
    if (!handle)
        return nullptr;
    Instance* instance = registry().instance(dispatch_key(handle));
    if (!instance)
        return nullptr;
    // Device functions looked up through the instance reach every device; those the layer
    // does not act for are passed through inside each function.
    if (auto f = find(device_entries, name))
        return instance->vk.GetInstanceProcAddr(handle, name) ? f : nullptr;
    return instance->vk.GetInstanceProcAddr(handle, name);
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL GetPhysicalDeviceProcAddr(VkInstance handle, const char* name)
{
    if (auto f = find(instance_entries, name))
        return f;
    Instance* instance = registry().instance(dispatch_key(handle));
    if (!instance || !instance->vk.GetPhysicalDeviceProcAddr)
        return nullptr;
    return instance->vk.GetPhysicalDeviceProcAddr(handle, name);
}

} // namespace

} // namespace syncway::wsi

// The one exported symbol: the loader (interface version 2 and up) asks for the layer's
// proc-address functions through it.
extern "C" [[gnu::visibility("default")]] VKAPI_ATTR VkResult VKAPI_CALL
vkNegotiateLoaderLayerInterfaceVersion(VkNegotiateLayerInterface* version)
{
    if (!version || version->sType != LAYER_NEGOTIATE_INTERFACE_STRUCT || version->loaderLayerInterfaceVersion < 2)
        return VK_ERROR_INITIALIZATION_FAILED;
    version->loaderLayerInterfaceVersion = 2;
    version->pfnGetInstanceProcAddr = &syncway::wsi::GetInstanceProcAddr;
    version->pfnGetDeviceProcAddr = &syncway::wsi::GetDeviceProcAddr;
    version->pfnGetPhysicalDeviceProcAddr = &syncway::wsi::GetPhysicalDeviceProcAddr;
    return VK_SUCCESS;
}
