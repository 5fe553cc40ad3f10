#include "dispatch.hpp"

namespace syncway::wsi {

void InstanceDispatch::load(VkInstance instance, uint32_t api_version, PFN_vkGetInstanceProcAddr gipa,
                            PFN_GetPhysicalDeviceProcAddr gpdpa)
{
    GetInstanceProcAddr = gipa;
    GetPhysicalDeviceProcAddr = gpdpa;
#define SYNCWAY_WSI_LOAD(name) name = reinterpret_cast<PFN_vk##name>(gipa(instance, "vk" #name));
    SYNCWAY_WSI_INSTANCE_FUNCTIONS(SYNCWAY_WSI_LOAD)
#undef SYNCWAY_WSI_LOAD
    // The same functions under the names a 1.0 instance may call (with the extension enabled).
    if (api_version < VK_API_VERSION_1_1 || !GetPhysicalDeviceProperties2)
        GetPhysicalDeviceProperties2 = GetPhysicalDeviceProperties2KHR;
    if (api_version < VK_API_VERSION_1_1 || !GetPhysicalDeviceImageFormatProperties2)
        GetPhysicalDeviceImageFormatProperties2 = GetPhysicalDeviceImageFormatProperties2KHR;
}

void DeviceDispatch::load(VkDevice device, PFN_vkGetDeviceProcAddr gdpa)
{
    GetDeviceProcAddr = gdpa;
#define SYNCWAY_WSI_LOAD(name) name = reinterpret_cast<PFN_vk##name>(gdpa(device, "vk" #name));
    SYNCWAY_WSI_DEVICE_FUNCTIONS(SYNCWAY_WSI_LOAD)
#undef SYNCWAY_WSI_LOAD
    if (!QueueSubmit2)
        QueueSubmit2 = QueueSubmit2KHR;
}

} // namespace syncway::wsi
