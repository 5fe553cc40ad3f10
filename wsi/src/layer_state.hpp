// What the layer knows about the application's Vulkan objects: instances, devices, Wayland
// surfaces and the swapchains it implements.
//
// The loader calls a layer through free functions whose only context is the handles they are
// given, so this registry is the one process-wide object of the layer (created on first use,
// every member behind its mutex); everything else hangs off its records.
#pragma once

#include "device_support.hpp"
#include "dispatch.hpp"
#include "wayland_connection.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace syncway::wsi {

class Swapchain;
class SurfaceSync;

struct Instance {
    VkInstance handle = VK_NULL_HANDLE;
    InstanceDispatch vk;
    uint32_t api_version = VK_API_VERSION_1_0; // what the application asked for
    bool have_properties2 = false; // Vulkan >= 1.1 or VK_KHR_get_physical_device_properties2

    // Probed once per physical device, on first use.
    const DeviceSupport& support(VkPhysicalDevice device);

private:
    std::mutex mutex_;
    std::map<VkPhysicalDevice, DeviceSupport> support_;
};

struct Device {
    VkDevice handle = VK_NULL_HANDLE;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    Instance* instance = nullptr;
    DeviceDispatch vk;
    DeviceSupport support;
    bool acts = false;
    // The queue on which the layer signals an acquire's semaphore and fence (an empty submit).
    // VkQueue use must be externally synchronized, and the application may submit on it from
    // another thread while it acquires; every submit to it therefore goes through queue_mutex.
    VkQueue internal_queue = VK_NULL_HANDLE;
    std::mutex queue_mutex;

    std::unique_lock<std::mutex> lock_queue(VkQueue queue)
    {
        return queue == internal_queue ? std::unique_lock(queue_mutex) : std::unique_lock<std::mutex>();
    }
};

// A VkSurfaceKHR made by vkCreateWaylandSurfaceKHR.
struct Surface {
    VkSurfaceKHR handle = VK_NULL_HANDLE;
    wl_display* display = nullptr;
    wl_surface* wl = nullptr;
    // Null when the layer leaves this surface to the driver (`reason` says why).
    std::shared_ptr<WaylandConnection> connection;
    std::string reason;
    // Shared by the swapchains presenting to the surface; gone with the last of them.
    std::mutex sync_mutex;
    std::weak_ptr<SurfaceSync> sync;
};

class Registry {
public:
    void add_instance(std::unique_ptr<Instance> instance);
    Instance* instance(void* key);
    std::unique_ptr<Instance> remove_instance(void* key);

    void add_device(std::unique_ptr<Device> device);
    Device* device(void* key);
    std::unique_ptr<Device> remove_device(void* key);

    void add_surface(std::shared_ptr<Surface> surface);
    std::shared_ptr<Surface> surface(VkSurfaceKHR handle);
    void remove_surface(VkSurfaceKHR handle);

    // The connection of a wl_display if some surface still uses it, else a new one.
    std::shared_ptr<WaylandConnection> connection(wl_display* display, std::string* why_not);

    void add_swapchain(VkSwapchainKHR handle, std::shared_ptr<Swapchain> swapchain);
    std::shared_ptr<Swapchain> swapchain(VkSwapchainKHR handle);
    std::shared_ptr<Swapchain> remove_swapchain(VkSwapchainKHR handle);

    // "Why the layer passes through" is logged once per distinct reason, not once per call.
    bool first_time(const std::string& reason);

private:
    std::mutex mutex_;
    std::unordered_map<void*, std::unique_ptr<Instance>> instances_;
    std::unordered_map<void*, std::unique_ptr<Device>> devices_;
    std::unordered_map<uint64_t, std::shared_ptr<Surface>> surfaces_;
    std::unordered_map<wl_display*, std::weak_ptr<WaylandConnection>> connections_;
    std::unordered_map<uint64_t, std::shared_ptr<Swapchain>> swapchains_;
    std::map<std::string, bool> logged_;
};

Registry& registry();

} // namespace syncway::wsi
