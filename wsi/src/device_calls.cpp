// Device-level entry points: the swapchain functions (the layer's own swapchains for surfaces
// it handles, the driver's otherwise) and the queue functions, which take the layer's queue
// lock on the queue it signals acquires on.
#include "entry_points.hpp"
#include "log.hpp"
#include "swapchain.hpp"

#include <vector>

namespace syncway::wsi {

namespace {

Device* device_of(void* key)
{
    return registry().device(key);
}

// Of two present results, the one to report for the whole call: errors first, the most
// serious first, then SUBOPTIMAL, then SUCCESS.
VkResult worse(VkResult a, VkResult b)
{
    auto rank = [](VkResult r) {
        switch (r) {
        case VK_SUCCESS: return 0;
        case VK_SUBOPTIMAL_KHR: return 1;
        case VK_ERROR_OUT_OF_DATE_KHR: return 2;
        case VK_ERROR_SURFACE_LOST_KHR: return 3;
        default: return 4;
        }
    };
    return rank(b) > rank(a) ? b : a;
}

} // namespace

VKAPI_ATTR void VKAPI_CALL DestroyDevice(VkDevice handle, const VkAllocationCallbacks* allocator)
{
    if (!handle)
        return;
    auto device = registry().remove_device(dispatch_key(handle));
    if (device)
        device->vk.DestroyDevice(handle, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL CreateSwapchainKHR(VkDevice handle, const VkSwapchainCreateInfoKHR* info,
                                                  const VkAllocationCallbacks* allocator, VkSwapchainKHR* out)
{
    Device* device = device_of(dispatch_key(handle));
    auto old = registry().swapchain(info->oldSwapchain);
    if (old)
        old->retire();
    auto surface = registry().surface(info->surface);
    if (device->acts && surface && surface->connection) {
        std::shared_ptr<Swapchain> swapchain;
        auto offer = surface_offer(*device->instance, device->physical, *surface->connection);
        VkResult r = Swapchain::create(*device, surface, offer, *info, &swapchain);
        if (r != VK_SUCCESS)
            return r;
        *out = swapchain->handle();
        registry().add_swapchain(*out, std::move(swapchain));
        return VK_SUCCESS;
    }
    if (surface && registry().first_time("swapchain passthrough " + (surface->connection ? device->support.reason : surface->reason)))
        log(LogLevel::Info, "the driver's WSI presents this swapchain: %s",
            (surface->connection ? device->support.reason : surface->reason).c_str());
    if (old) {
        // The driver never saw our swapchain; to it, this is a first one.
        VkSwapchainCreateInfoKHR modified = *info;
        modified.oldSwapchain = VK_NULL_HANDLE;
        return device->vk.CreateSwapchainKHR(handle, &modified, allocator, out);
    }
    return device->vk.CreateSwapchainKHR(handle, info, allocator, out);
}

VKAPI_ATTR void VKAPI_CALL DestroySwapchainKHR(VkDevice handle, VkSwapchainKHR swapchain, const VkAllocationCallbacks* allocator)
{
    if (swapchain == VK_NULL_HANDLE)
        return;
    if (auto ours = registry().remove_swapchain(swapchain)) {
        ours.reset(); // joins its worker: every frame in flight is finished
        return;
    }
    device_of(dispatch_key(handle))->vk.DestroySwapchainKHR(handle, swapchain, allocator);
}

VKAPI_ATTR VkResult VKAPI_CALL GetSwapchainImagesKHR(VkDevice handle, VkSwapchainKHR swapchain, uint32_t* count, VkImage* images)
{
    if (auto ours = registry().swapchain(swapchain))
        return ours->images(count, images);
    return device_of(dispatch_key(handle))->vk.GetSwapchainImagesKHR(handle, swapchain, count, images);
}

VKAPI_ATTR VkResult VKAPI_CALL AcquireNextImageKHR(VkDevice handle, VkSwapchainKHR swapchain, uint64_t timeout,
                                                   VkSemaphore semaphore, VkFence fence, uint32_t* index)
{
    if (auto ours = registry().swapchain(swapchain))
        return ours->acquire(timeout, semaphore, fence, index);
    return device_of(dispatch_key(handle))->vk.AcquireNextImageKHR(handle, swapchain, timeout, semaphore, fence, index);
}

VKAPI_ATTR VkResult VKAPI_CALL AcquireNextImage2KHR(VkDevice handle, const VkAcquireNextImageInfoKHR* info, uint32_t* index)
{
    if (auto ours = registry().swapchain(info->swapchain))
        return ours->acquire(info->timeout, info->semaphore, info->fence, index);
    return device_of(dispatch_key(handle))->vk.AcquireNextImage2KHR(handle, info, index);
}

VKAPI_ATTR VkResult VKAPI_CALL GetSwapchainStatusKHR(VkDevice handle, VkSwapchainKHR swapchain)
{
    if (auto ours = registry().swapchain(swapchain))
        return VK_SUCCESS; // acquire and present say OUT_OF_DATE / SURFACE_LOST when it is
    return device_of(dispatch_key(handle))->vk.GetSwapchainStatusKHR(handle, swapchain);
}

VKAPI_ATTR VkResult VKAPI_CALL GetDeviceGroupSurfacePresentModesKHR(VkDevice handle, VkSurfaceKHR surface,
                                                                    VkDeviceGroupPresentModeFlagsKHR* modes)
{
    Device* device = device_of(dispatch_key(handle));
    auto ours = registry().surface(surface);
    if (device->acts && ours && ours->connection) {
        *modes = VK_DEVICE_GROUP_PRESENT_MODE_LOCAL_BIT_KHR;
        return VK_SUCCESS;
    }
    return device->vk.GetDeviceGroupSurfacePresentModesKHR(handle, surface, modes);
}

VKAPI_ATTR VkResult VKAPI_CALL QueuePresentKHR(VkQueue queue, const VkPresentInfoKHR* info)
{
    Device* device = device_of(dispatch_key(queue));
    // Split the swapchains into ours and the driver's (both in one call only when one device
    // presents to surfaces on different compositors).
    std::vector<uint32_t> theirs;
    std::vector<std::shared_ptr<Swapchain>> ours(info->swapchainCount);
    for (uint32_t i = 0; i < info->swapchainCount; ++i) {
        ours[i] = registry().swapchain(info->pSwapchains[i]);
        if (!ours[i])
            theirs.push_back(i);
    }
    if (theirs.size() == info->swapchainCount)
        return device->vk.QueuePresentKHR(queue, info);

    VkResult overall = VK_SUCCESS;
    bool waited = false;
    for (uint32_t i = 0; i < info->swapchainCount; ++i) {
        if (!ours[i])
            continue;
        // The first present waits for the semaphores; the queue orders the others after it.
        VkResult r = ours[i]->present(queue, info->pImageIndices[i], waited ? nullptr : info->pWaitSemaphores,
                                      waited ? 0 : info->waitSemaphoreCount);
        waited = true;
        if (info->pResults)
            info->pResults[i] = r;
        overall = worse(overall, r);
    }
    if (!theirs.empty()) {
        std::vector<VkSwapchainKHR> swapchains;
        std::vector<uint32_t> indices;
        std::vector<VkResult> results(theirs.size(), VK_SUCCESS);
        for (uint32_t i : theirs) {
            swapchains.push_back(info->pSwapchains[i]);
            indices.push_back(info->pImageIndices[i]);
        }
        VkPresentInfoKHR rest = *info;
        rest.pNext = nullptr; // per-swapchain extension arrays no longer line up
        rest.waitSemaphoreCount = 0; // consumed by our first present, which the queue orders first
        rest.pWaitSemaphores = nullptr;
        rest.swapchainCount = uint32_t(swapchains.size());
        rest.pSwapchains = swapchains.data();
        rest.pImageIndices = indices.data();
        rest.pResults = results.data();
        VkResult r = device->vk.QueuePresentKHR(queue, &rest);
        for (size_t k = 0; k < theirs.size(); ++k)
            if (info->pResults)
                info->pResults[theirs[k]] = results[k];
        overall = worse(overall, r);
    }
    return overall;
}

VKAPI_ATTR VkResult VKAPI_CALL QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo* submits, VkFence fence)
{
    Device* device = device_of(dispatch_key(queue));
    auto lock = device->lock_queue(queue);
    return device->vk.QueueSubmit(queue, count, submits, fence);
}

VKAPI_ATTR VkResult VKAPI_CALL QueueSubmit2(VkQueue queue, uint32_t count, const VkSubmitInfo2* submits, VkFence fence)
{
    Device* device = device_of(dispatch_key(queue));
    auto lock = device->lock_queue(queue);
    return device->vk.QueueSubmit2(queue, count, submits, fence);
}

VKAPI_ATTR VkResult VKAPI_CALL QueueWaitIdle(VkQueue queue)
{
    Device* device = device_of(dispatch_key(queue));
    auto lock = device->lock_queue(queue);
    return device->vk.QueueWaitIdle(queue);
}

VKAPI_ATTR VkResult VKAPI_CALL QueueBindSparse(VkQueue queue, uint32_t count, const VkBindSparseInfo* infos, VkFence fence)
{
    Device* device = device_of(dispatch_key(queue));
    auto lock = device->lock_queue(queue);
    return device->vk.QueueBindSparse(queue, count, infos, fence);
}

VKAPI_ATTR VkResult VKAPI_CALL DeviceWaitIdle(VkDevice handle)
{
    // vkDeviceWaitIdle needs every queue of the device externally synchronized.
    Device* device = device_of(dispatch_key(handle));
    auto lock = device->lock_queue(device->internal_queue);
    return device->vk.DeviceWaitIdle(handle);
}

} // namespace syncway::wsi
