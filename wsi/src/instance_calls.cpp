// Instance-level entry points: instance and device creation (the loader's layer chain), Wayland
// surfaces, and the surface queries the layer answers for surfaces it handles.
#include "entry_points.hpp"
#include "log.hpp"
#include "surface_caps.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace syncway::wsi {

namespace {

VkLayerInstanceCreateInfo* instance_chain(const VkInstanceCreateInfo* info, VkLayerFunction function)
{
    auto* p = static_cast<const VkBaseInStructure*>(info->pNext);
    for (; p; p = p->pNext) {
        auto* chain = reinterpret_cast<VkLayerInstanceCreateInfo*>(const_cast<VkBaseInStructure*>(p));
        if (p->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && chain->function == function)
            return chain;
    }
    return nullptr;
}

VkLayerDeviceCreateInfo* device_chain(const VkDeviceCreateInfo* info, VkLayerFunction function)
{
    auto* p = static_cast<const VkBaseInStructure*>(info->pNext);
    for (; p; p = p->pNext) {
        auto* chain = reinterpret_cast<VkLayerDeviceCreateInfo*>(const_cast<VkBaseInStructure*>(p));
        if (p->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && chain->function == function)
            return chain;
    }
    return nullptr;
}

bool contains(const char* const* names, uint32_t count, const char* name)
{
    for (uint32_t i = 0; i < count; ++i)
        if (std::strcmp(names[i], name) == 0)
            return true;
    return false;
}

Instance* instance_of(VkPhysicalDevice device)
{
    return registry().instance(dispatch_key(device));
}

// The surface record if the layer presents to this surface from this physical device; else
// null, and the reason is logged once.
std::shared_ptr<Surface> handled_surface(Instance& instance, VkPhysicalDevice device, VkSurfaceKHR handle)
{
    auto surface = registry().surface(handle);
    if (!surface)
        return nullptr; // not a Wayland surface
    const DeviceSupport& support = instance.support(device);
    std::string reason = !surface->connection ? surface->reason : support.reason;
    if (reason.empty())
        return surface;
    reason = "passing " + support.description + " through to the driver's WSI: " + reason;
    if (registry().first_time(reason))
        log(LogLevel::Info, "%s", reason.c_str());
    return nullptr;
}

} // namespace

VKAPI_ATTR VkResult VKAPI_CALL CreateInstance(const VkInstanceCreateInfo* info, const VkAllocationCallbacks* allocator,
                                              VkInstance* out)
{
    VkLayerInstanceCreateInfo* chain = instance_chain(info, VK_LAYER_LINK_INFO);
    if (!chain || !chain->u.pLayerInfo)
        return VK_ERROR_INITIALIZATION_FAILED;
    VkLayerInstanceLink* link = chain->u.pLayerInfo;
    PFN_vkGetInstanceProcAddr next_gipa = link->pfnNextGetInstanceProcAddr;
    PFN_GetPhysicalDeviceProcAddr next_gpdpa = link->pfnNextGetPhysicalDeviceProcAddr;
    auto create = reinterpret_cast<PFN_vkCreateInstance>(next_gipa(VK_NULL_HANDLE, "vkCreateInstance"));
    if (!create)
        return VK_ERROR_INITIALIZATION_FAILED;

    const uint32_t api = info->pApplicationInfo ? info->pApplicationInfo->apiVersion : 0;
    const bool core_1_1 = api >= VK_API_VERSION_1_1;
    // Below 1.1 the layer needs two instance extensions to ask about a device's DRM node and
    // about external memory; it enables them if the application did not.
    std::vector<const char*> extensions(info->ppEnabledExtensionNames,
                                        info->ppEnabledExtensionNames + info->enabledExtensionCount);
    bool added = false;
    if (!core_1_1) {
        for (const char* name : {VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME,
                                 VK_KHR_EXTERNAL_MEMORY_CAPABILITIES_EXTENSION_NAME}) {
            if (!contains(extensions.data(), uint32_t(extensions.size()), name)) {
                extensions.push_back(name);
                added = true;
            }
        }
    }
    VkInstanceCreateInfo modified = *info;
    modified.enabledExtensionCount = uint32_t(extensions.size());
    modified.ppEnabledExtensionNames = extensions.data();
    chain->u.pLayerInfo = link->pNext;
    VkResult r = create(&modified, allocator, out);
    bool have_properties2 = core_1_1 || added;
    if (r == VK_ERROR_EXTENSION_NOT_PRESENT && added) {
        chain->u.pLayerInfo = link->pNext;
        r = create(info, allocator, out);
        have_properties2 = contains(info->ppEnabledExtensionNames, info->enabledExtensionCount,
                                    VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME);
    }
    if (r != VK_SUCCESS)
        return r;

    auto instance = std::make_unique<Instance>();
    instance->handle = *out;
    instance->api_version = api ? api : VK_API_VERSION_1_0;
    instance->have_properties2 = have_properties2;
    instance->vk.load(*out, instance->api_version, next_gipa, next_gpdpa);
    registry().add_instance(std::move(instance));
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL DestroyInstance(VkInstance handle, const VkAllocationCallbacks* allocator)
{
    if (!handle)
        return;
    auto instance = registry().remove_instance(dispatch_key(handle));
    if (instance)
        instance->vk.DestroyInstance(handle, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical, const VkDeviceCreateInfo* info,
                                            const VkAllocationCallbacks* allocator, VkDevice* out)
{
    Instance* instance = instance_of(physical);
    VkLayerDeviceCreateInfo* chain = device_chain(info, VK_LAYER_LINK_INFO);
    if (!instance || !chain || !chain->u.pLayerInfo)
        return VK_ERROR_INITIALIZATION_FAILED;
    VkLayerDeviceLink* link = chain->u.pLayerInfo;
    PFN_vkGetInstanceProcAddr next_gipa = link->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr next_gdpa = link->pfnNextGetDeviceProcAddr;
    auto create = reinterpret_cast<PFN_vkCreateDevice>(next_gipa(instance->handle, "vkCreateDevice"));
    if (!create)
        return VK_ERROR_INITIALIZATION_FAILED;

    const DeviceSupport& support = instance->support(physical);
    std::vector<const char*> extensions(info->ppEnabledExtensionNames,
                                        info->ppEnabledExtensionNames + info->enabledExtensionCount);
    if (support.acts) {
        // The device's effective version is the lower of the instance's and its own.
        const uint32_t effective = std::min(instance->api_version, support.api_version);
        std::vector<const char*> needed = {VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME};
        if (effective < VK_API_VERSION_1_1)
            needed.push_back(VK_KHR_EXTERNAL_MEMORY_EXTENSION_NAME);
        for (const char* name : needed)
            if (!contains(extensions.data(), uint32_t(extensions.size()), name))
                extensions.push_back(name);
    }
    VkDeviceCreateInfo modified = *info;
    modified.enabledExtensionCount = uint32_t(extensions.size());
    modified.ppEnabledExtensionNames = extensions.data();
    chain->u.pLayerInfo = link->pNext;
    VkResult r = create(physical, &modified, allocator, out);
    if (r != VK_SUCCESS)
        return r;

    auto device = std::make_unique<Device>();
    device->handle = *out;
    device->physical = physical;
    device->instance = instance;
    device->support = support;
    device->acts = support.acts;
    device->vk.load(*out, next_gdpa);
    if (device->acts) {
        // The queue the layer signals acquires on: the first one the application created.
        for (uint32_t i = 0; i < info->queueCreateInfoCount; ++i) {
            const auto& q = info->pQueueCreateInfos[i];
            if (q.flags == 0 && q.queueCount > 0) {
                device->vk.GetDeviceQueue(*out, q.queueFamilyIndex, 0, &device->internal_queue);
                break;
            }
        }
        // A queue fetched by a layer must be given the loader's dispatch pointer, as the
        // loader's trampoline does for the application's own vkGetDeviceQueue.
        VkLayerDeviceCreateInfo* data = device_chain(info, VK_LOADER_DATA_CALLBACK);
        if (device->internal_queue && data && data->u.pfnSetDeviceLoaderData)
            data->u.pfnSetDeviceLoaderData(*out, device->internal_queue);
        if (!device->internal_queue) {
            log(LogLevel::Warn, "no queue without flags among the device's queues: the layer passes through");
            device->acts = false;
        }
    }
    registry().add_device(std::move(device));
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL CreateWaylandSurfaceKHR(VkInstance handle, const VkWaylandSurfaceCreateInfoKHR* info,
                                                       const VkAllocationCallbacks* allocator, VkSurfaceKHR* out)
{
    Instance* instance = registry().instance(dispatch_key(handle));
    if (!instance || !instance->vk.CreateWaylandSurfaceKHR)
        return VK_ERROR_EXTENSION_NOT_PRESENT;
    VkResult r = instance->vk.CreateWaylandSurfaceKHR(handle, info, allocator, out);
    if (r != VK_SUCCESS)
        return r;
    auto surface = std::make_shared<Surface>();
    surface->handle = *out;
    surface->display = info->display;
    surface->wl = info->surface;
    surface->connection = registry().connection(info->display, &surface->reason);
    registry().add_surface(std::move(surface));
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL DestroySurfaceKHR(VkInstance handle, VkSurfaceKHR surface, const VkAllocationCallbacks* allocator)
{
    Instance* instance = registry().instance(dispatch_key(handle));
    if (!instance)
        return;
    registry().remove_surface(surface);
    instance->vk.DestroySurfaceKHR(handle, surface, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL GetPhysicalDeviceSurfaceCapabilitiesKHR(VkPhysicalDevice device, VkSurfaceKHR handle,
                                                                       VkSurfaceCapabilitiesKHR* caps)
{
    Instance* instance = instance_of(device);
    auto surface = handled_surface(*instance, device, handle);
    if (!surface)
        return instance->vk.GetPhysicalDeviceSurfaceCapabilitiesKHR(device, handle, caps);
    if (surface->connection->lost())
        return VK_ERROR_SURFACE_LOST_KHR;
    fill_capabilities(surface_offer(*instance, device, *surface->connection), caps);
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL GetPhysicalDeviceSurfaceCapabilities2KHR(VkPhysicalDevice device,
                                                                        const VkPhysicalDeviceSurfaceInfo2KHR* info,
                                                                        VkSurfaceCapabilities2KHR* caps)
{
    Instance* instance = instance_of(device);
    auto surface = handled_surface(*instance, device, info->surface);
    if (!surface)
        return instance->vk.GetPhysicalDeviceSurfaceCapabilities2KHR(device, info, caps);
    if (surface->connection->lost())
        return VK_ERROR_SURFACE_LOST_KHR;
    fill_capabilities(surface_offer(*instance, device, *surface->connection), &caps->surfaceCapabilities);
    for (auto* p = static_cast<VkBaseOutStructure*>(caps->pNext); p; p = p->pNext) {
        if (p->sType == VK_STRUCTURE_TYPE_SURFACE_PROTECTED_CAPABILITIES_KHR)
            reinterpret_cast<VkSurfaceProtectedCapabilitiesKHR*>(p)->supportsProtected = VK_FALSE;
        else if (p->sType == VK_STRUCTURE_TYPE_SHARED_PRESENT_SURFACE_CAPABILITIES_KHR)
            reinterpret_cast<VkSharedPresentSurfaceCapabilitiesKHR*>(p)->sharedPresentSupportedUsageFlags = 0;
    }
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL GetPhysicalDeviceSurfaceFormatsKHR(VkPhysicalDevice device, VkSurfaceKHR handle,
                                                                  uint32_t* count, VkSurfaceFormatKHR* formats)
{
    Instance* instance = instance_of(device);
    auto surface = handled_surface(*instance, device, handle);
    if (!surface)
        return instance->vk.GetPhysicalDeviceSurfaceFormatsKHR(device, handle, count, formats);
    auto offer = surface_offer(*instance, device, *surface->connection);
    if (!formats) {
        *count = uint32_t(offer.formats.size());
        return VK_SUCCESS;
    }
    uint32_t n = std::min<uint32_t>(*count, uint32_t(offer.formats.size()));
    for (uint32_t i = 0; i < n; ++i)
        formats[i] = offer.formats[i].format;
    *count = n;
    return n < offer.formats.size() ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL GetPhysicalDeviceSurfaceFormats2KHR(VkPhysicalDevice device,
                                                                   const VkPhysicalDeviceSurfaceInfo2KHR* info,
                                                                   uint32_t* count, VkSurfaceFormat2KHR* formats)
{
    Instance* instance = instance_of(device);
    auto surface = handled_surface(*instance, device, info->surface);
    if (!surface)
        return instance->vk.GetPhysicalDeviceSurfaceFormats2KHR(device, info, count, formats);
    auto offer = surface_offer(*instance, device, *surface->connection);
    if (!formats) {
        *count = uint32_t(offer.formats.size());
        return VK_SUCCESS;
    }
    uint32_t n = std::min<uint32_t>(*count, uint32_t(offer.formats.size()));
    for (uint32_t i = 0; i < n; ++i)
        formats[i].surfaceFormat = offer.formats[i].format;
    *count = n;
    return n < offer.formats.size() ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL GetPhysicalDeviceSurfacePresentModesKHR(VkPhysicalDevice device, VkSurfaceKHR handle,
                                                                       uint32_t* count, VkPresentModeKHR* modes)
{
    Instance* instance = instance_of(device);
    auto surface = handled_surface(*instance, device, handle);
    if (!surface)
        return instance->vk.GetPhysicalDeviceSurfacePresentModesKHR(device, handle, count, modes);
    auto offer = surface_offer(*instance, device, *surface->connection);
    if (!modes) {
        *count = uint32_t(offer.present_modes.size());
        return VK_SUCCESS;
    }
    uint32_t n = std::min<uint32_t>(*count, uint32_t(offer.present_modes.size()));
    std::copy_n(offer.present_modes.begin(), n, modes);
    *count = n;
    return n < offer.present_modes.size() ? VK_INCOMPLETE : VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL EnumerateDeviceExtensionProperties(VkPhysicalDevice device, const char* layer,
                                                                  uint32_t* count, VkExtensionProperties* properties)
{
    if (layer && std::strcmp(layer, kLayerName) == 0) {
        *count = 0;
        return VK_SUCCESS;
    }
    Instance* instance = instance_of(device);
    return instance->vk.EnumerateDeviceExtensionProperties(device, layer, count, properties);
}

} // namespace syncway::wsi
