// The Vulkan headers as the layer uses them: with the Wayland platform and the loader-layer
// interface (vk_layer.h).
#pragma once

#ifndef VK_USE_PLATFORM_WAYLAND_KHR
#define VK_USE_PLATFORM_WAYLAND_KHR 1
#endif
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#include <cstdint>

namespace syncway::wsi {

// Dispatchable handles (instance, physical device, device, queue, command buffer) start with
// the loader's dispatch table pointer; objects that share it belong to the same instance or
// device, so it is the key to find our per-instance and per-device data.
template <typename Handle> inline void* dispatch_key(Handle handle)
{
    return *reinterpret_cast<void**>(handle);
}

// Non-dispatchable handles are 64-bit values on every platform we build for.
template <typename Handle> inline uint64_t handle_value(Handle handle)
{
    return (uint64_t)(handle);
}

} // namespace syncway::wsi
