// The next layer's (or the driver's) entry points that the layer calls, per instance and per
// device, looked up once when the instance or device is created.
#pragma once

#include "vk.hpp"

namespace syncway::wsi {

// Instance-level functions; optional ones are null when the next layer does not have them.
#define SYNCWAY_WSI_INSTANCE_FUNCTIONS(X)                                                          \
    X(DestroyInstance)                                                                             \
    X(EnumerateDeviceExtensionProperties)                                                          \
    X(GetPhysicalDeviceProperties)                                                                 \
    X(GetPhysicalDeviceProperties2)                                                                \
    X(GetPhysicalDeviceProperties2KHR)                                                             \
    X(GetPhysicalDeviceFormatProperties)                                                           \
    X(GetPhysicalDeviceImageFormatProperties2)                                                     \
    X(GetPhysicalDeviceImageFormatProperties2KHR)                                                  \
    X(GetPhysicalDeviceMemoryProperties)                                                           \
    X(CreateWaylandSurfaceKHR)                                                                     \
    X(DestroySurfaceKHR)                                                                           \
    X(GetPhysicalDeviceSurfaceSupportKHR)                                                          \
    X(GetPhysicalDeviceSurfaceCapabilitiesKHR)                                                     \
    X(GetPhysicalDeviceSurfaceFormatsKHR)                                                          \
    X(GetPhysicalDeviceSurfacePresentModesKHR)                                                     \
    X(GetPhysicalDeviceSurfaceCapabilities2KHR)                                                    \
    X(GetPhysicalDeviceSurfaceFormats2KHR)                                                         \
    X(GetPhysicalDevicePresentRectanglesKHR)

#define SYNCWAY_WSI_DEVICE_FUNCTIONS(X)                                                            \
    X(DestroyDevice)                                                                               \
    X(GetDeviceQueue)                                                                              \
    X(QueueSubmit)                                                                                 \
    X(QueueSubmit2)                                                                                \
    X(QueueSubmit2KHR)                                                                             \
    X(QueueWaitIdle)                                                                               \
    X(QueueBindSparse)                                                                             \
    X(DeviceWaitIdle)                                                                              \
    X(CreateFence)                                                                                 \
    X(DestroyFence)                                                                                \
    X(ResetFences)                                                                                 \
    X(WaitForFences)                                                                               \
    X(GetFenceStatus)                                                                              \
    X(CreateImage)                                                                                 \
    X(DestroyImage)                                                                                \
    X(GetImageMemoryRequirements)                                                                  \
    X(GetImageSubresourceLayout)                                                                   \
    X(AllocateMemory)                                                                              \
    X(FreeMemory)                                                                                  \
    X(BindImageMemory)                                                                             \
    X(GetMemoryHostPointerPropertiesEXT)                                                           \
    X(CreateSwapchainKHR)                                                                          \
    X(DestroySwapchainKHR)                                                                         \
    X(GetSwapchainImagesKHR)                                                                       \
    X(AcquireNextImageKHR)                                                                         \
    X(AcquireNextImage2KHR)                                                                        \
    X(QueuePresentKHR)                                                                             \
    X(GetSwapchainStatusKHR)                                                                       \
    X(GetDeviceGroupSurfacePresentModesKHR)

struct InstanceDispatch {
    PFN_vkGetInstanceProcAddr GetInstanceProcAddr = nullptr;
    PFN_GetPhysicalDeviceProcAddr GetPhysicalDeviceProcAddr = nullptr;
#define SYNCWAY_WSI_MEMBER(name) PFN_vk##name name = nullptr;
    SYNCWAY_WSI_INSTANCE_FUNCTIONS(SYNCWAY_WSI_MEMBER)
#undef SYNCWAY_WSI_MEMBER

    // Below Vulkan 1.1 (`api_version`) the core 1.1 names must not be called; their KHR aliases
    // are used instead.
    void load(VkInstance instance, uint32_t api_version, PFN_vkGetInstanceProcAddr gipa, PFN_GetPhysicalDeviceProcAddr gpdpa);
};

struct DeviceDispatch {
    PFN_vkGetDeviceProcAddr GetDeviceProcAddr = nullptr;
#define SYNCWAY_WSI_MEMBER(name) PFN_vk##name name = nullptr;
    SYNCWAY_WSI_DEVICE_FUNCTIONS(SYNCWAY_WSI_MEMBER)
#undef SYNCWAY_WSI_MEMBER

    void load(VkDevice device, PFN_vkGetDeviceProcAddr gdpa);
};

} // namespace syncway::wsi
