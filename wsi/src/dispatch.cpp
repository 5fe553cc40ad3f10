#include "dispatch.hpp"

namespace syncway::wsi {

void InstanceDispatch::load(VkInstance instance, PFN_vkGetInstanceProcAddr gipa, PFN_GetPhysicalDeviceProcAddr gpdpa)
{
    GetInstanceProcAddr = gipa;
    GetPhysicalDeviceProcAddr = gpdpa;
#define SYNCWAY_WSI_LOAD(name) name = reinterpret_cast<PFN_vk##name>(gipa(instance, "vk" #name));
    SYNCWAY_WSI_INSTANCE_FUNCTIONS(SYNCWAY_WSI_LOAD)
#undef SYNCWAY_WSI_LOAD
    // Core 1.1 names are missing below a 1.0 instance; the KHR aliases are the same functions.
    if (!GetPhysicalDeviceProperties2)
        GetPhysicalDeviceProperties2 = GetPhysicalDeviceProperties2KHR;
    if (!GetPhysicalDeviceImageFormatProperties2)
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
