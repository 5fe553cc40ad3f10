#include "layer_state.hpp"

#include "swapchain.hpp"

namespace syncway::wsi {

const DeviceSupport& Instance::support(VkPhysicalDevice device)
{
    std::lock_guard lock(mutex_);
    auto it = support_.find(device);
    if (it == support_.end())
        it = support_.emplace(device, probe_device_support(vk, device, have_properties2)).first;
    return it->second;
}

Registry& registry()
{
    // Never destroyed: an application may call Vulkan from atexit handlers or threads that
    // outlive static destruction.
    static Registry* registry = new Registry;
    return *registry;
}

void Registry::add_instance(std::unique_ptr<Instance> instance)
{
    std::lock_guard lock(mutex_);
    void* key = dispatch_key(instance->handle);
    instances_[key] = std::move(instance);
}

Instance* Registry::instance(void* key)
{
    std::lock_guard lock(mutex_);
    auto it = instances_.find(key);
    return it == instances_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Instance> Registry::remove_instance(void* key)
{
    std::lock_guard lock(mutex_);
    auto it = instances_.find(key);
    if (it == instances_.end())
        return nullptr;
    auto instance = std::move(it->second);
    instances_.erase(it);
    return instance;
}

void Registry::add_device(std::unique_ptr<Device> device)
{
    std::lock_guard lock(mutex_);
    void* key = dispatch_key(device->handle);
    devices_[key] = std::move(device);
}

Device* Registry::device(void* key)
{
    std::lock_guard lock(mutex_);
    auto it = devices_.find(key);
    return it == devices_.end() ? nullptr : it->second.get();
}

std::unique_ptr<Device> Registry::remove_device(void* key)
{
    std::lock_guard lock(mutex_);
    auto it = devices_.find(key);
    if (it == devices_.end())
        return nullptr;
    auto device = std::move(it->second);
    devices_.erase(it);
    return device;
}

void Registry::add_surface(std::shared_ptr<Surface> surface)
{
    std::lock_guard lock(mutex_);
    surfaces_[handle_value(surface->handle)] = std::move(surface);
}

std::shared_ptr<Surface> Registry::surface(VkSurfaceKHR handle)
{
    std::lock_guard lock(mutex_);
    auto it = surfaces_.find(handle_value(handle));
    return it == surfaces_.end() ? nullptr : it->second;
}

void Registry::remove_surface(VkSurfaceKHR handle)
{
    std::shared_ptr<Surface> surface;
    {
        std::lock_guard lock(mutex_);
        auto it = surfaces_.find(handle_value(handle));
        if (it == surfaces_.end())
            return;
        surface = std::move(it->second);
        surfaces_.erase(it);
    }
    // The connection (if this was its last surface) is torn down here, outside the lock.
}

std::shared_ptr<WaylandConnection> Registry::connection(wl_display* display, std::string* why_not)
{
    {
        std::lock_guard lock(mutex_);
        if (auto existing = connections_[display].lock())
            return existing;
    }
    // Roundtrips to the compositor: not under the registry's lock.
    auto created = WaylandConnection::open(display, why_not);
    if (!created)
        return nullptr;
    std::lock_guard lock(mutex_);
    if (auto existing = connections_[display].lock())
        return existing; // another thread won the race; ours is dropped
    connections_[display] = created;
    return created;
}

void Registry::add_swapchain(VkSwapchainKHR handle, std::shared_ptr<Swapchain> swapchain)
{
    std::lock_guard lock(mutex_);
    swapchains_[handle_value(handle)] = std::move(swapchain);
}

std::shared_ptr<Swapchain> Registry::swapchain(VkSwapchainKHR handle)
{
    if (handle == VK_NULL_HANDLE)
        return nullptr;
    std::lock_guard lock(mutex_);
    auto it = swapchains_.find(handle_value(handle));
    return it == swapchains_.end() ? nullptr : it->second;
}

std::shared_ptr<Swapchain> Registry::remove_swapchain(VkSwapchainKHR handle)
{
    std::lock_guard lock(mutex_);
    auto it = swapchains_.find(handle_value(handle));
    if (it == swapchains_.end())
        return nullptr;
    auto swapchain = std::move(it->second);
    swapchains_.erase(it);
    return swapchain;
}

bool Registry::first_time(const std::string& reason)
{
    std::lock_guard lock(mutex_);
    return logged_.emplace(reason, true).second;
}

} // namespace syncway::wsi
