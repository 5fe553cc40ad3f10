#include <syncway/testing/vulkan_client.hpp>

#include <syncway/testing/dispatch.hpp>

#include <errno.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace syncway::testing {

using namespace std::chrono_literals;

void client_fail(const std::string& what)
{
    std::fprintf(stderr, "%s: FAILED: %s\n", program_invocation_short_name, what.c_str());
    std::exit(1);
}

void vk_check(VkResult r, const char* what)
{
    if (r != VK_SUCCESS)
        client_fail(std::string(what) + " returned " + std::to_string(r));
}

WaylandClient::WaylandClient(ExtraGlobal extra) : extra_(std::move(extra))
{
    display_ = wl_display_connect(nullptr);
    if (!display_)
        client_fail("cannot connect to the compositor");
    registry_ = wl_display_get_registry(display_);
    static const wl_registry_listener listener = {
        .global = [](void* data, wl_registry* r, uint32_t name, const char* iface, uint32_t) {
            auto* self = static_cast<WaylandClient*>(data);
            if (!self->globals_.bind(r, name, iface) && self->extra_)
                self->extra_(r, name, iface);
        },
        .global_remove = [](void*, wl_registry*, uint32_t) {},
    };
    wl_registry_add_listener(registry_, &listener, this);
    wl_display_roundtrip(display_);
    if (!globals_.complete())
        client_fail("the compositor lacks core globals");
}

WaylandClient::~WaylandClient()
{
    wl_registry_destroy(registry_);
    // The globals' proxies go with globals_. The display stays connected: Vulkan objects made
    // on it may be destroyed later, and the process's exit closes it.
}

std::unique_ptr<Toplevel> WaylandClient::toplevel(const char* title)
{
    auto toplevel = std::make_unique<Toplevel>(globals_.compositor, globals_.wm_base, title);
    if (dispatch_until(display_, [&] { return toplevel->configured(); }, 10s) != DispatchResult::done)
        client_fail(std::string("no configure for the toplevel '") + title + "'");
    return toplevel;
}

VulkanDevice::VulkanDevice()
{
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.apiVersion = VK_API_VERSION_1_1;
    const char* extensions[] = {VK_KHR_SURFACE_EXTENSION_NAME, VK_KHR_WAYLAND_SURFACE_EXTENSION_NAME};
    VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    info.pApplicationInfo = &app;
    info.enabledExtensionCount = 2;
    info.ppEnabledExtensionNames = extensions;
    vk_check(vkCreateInstance(&info, nullptr, &instance), "vkCreateInstance");
    uint32_t count = 1;
    VkResult r = vkEnumeratePhysicalDevices(instance, &count, &physical);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || count == 0)
        client_fail("no Vulkan device");
    float priority = 1;
    VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queue_info.queueCount = 1;
    queue_info.pQueuePriorities = &priority;
    const char* device_extensions[] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME};
    VkDeviceCreateInfo device_info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    device_info.queueCreateInfoCount = 1;
    device_info.pQueueCreateInfos = &queue_info;
    device_info.enabledExtensionCount = 1;
    device_info.ppEnabledExtensionNames = device_extensions;
    vk_check(vkCreateDevice(physical, &device_info, nullptr, &device), "vkCreateDevice");
    vkGetDeviceQueue(device, 0, 0, &queue);
    VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    vk_check(vkCreateCommandPool(device, &pool_info, nullptr, &pool), "vkCreateCommandPool");
}

VulkanDevice::~VulkanDevice()
{
    vkDeviceWaitIdle(device);
    vkDestroyCommandPool(device, pool, nullptr);
    vkDestroyDevice(device, nullptr);
    vkDestroyInstance(instance, nullptr);
}

VulkanSurface::VulkanSurface(const VulkanDevice& vk, wl_display* display, wl_surface* surface)
    : instance_(vk.instance)
{
    VkWaylandSurfaceCreateInfoKHR info{VK_STRUCTURE_TYPE_WAYLAND_SURFACE_CREATE_INFO_KHR};
    info.display = display;
    info.surface = surface;
    vk_check(vkCreateWaylandSurfaceKHR(vk.instance, &info, nullptr, &handle), "vkCreateWaylandSurfaceKHR");
    VkBool32 supported = VK_FALSE;
    vk_check(vkGetPhysicalDeviceSurfaceSupportKHR(vk.physical, 0, handle, &supported),
             "vkGetPhysicalDeviceSurfaceSupportKHR");
    if (!supported)
        client_fail("queue family 0 cannot present");
}

VulkanSurface::~VulkanSurface() { vkDestroySurfaceKHR(instance_, handle, nullptr); }

SwapchainImages create_swapchain(const VulkanDevice& vk, VkSurfaceKHR surface, const SwapchainRequest& request)
{
    VkSurfaceCapabilitiesKHR caps{};
    vk_check(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(vk.physical, surface, &caps), "surface capabilities");
    uint32_t count = 0;
    vkGetPhysicalDeviceSurfaceFormatsKHR(vk.physical, surface, &count, nullptr);
    std::vector<VkSurfaceFormatKHR> formats(count);
    vkGetPhysicalDeviceSurfaceFormatsKHR(vk.physical, surface, &count, formats.data());
    if (formats.empty())
        client_fail("the surface offers no format");
    VkSurfaceFormatKHR format = formats[0];
    for (auto f : formats)
        if (f.format == VK_FORMAT_B8G8R8A8_UNORM)
            format = f;
    vkGetPhysicalDeviceSurfacePresentModesKHR(vk.physical, surface, &count, nullptr);
    std::vector<VkPresentModeKHR> modes(count);
    vkGetPhysicalDeviceSurfacePresentModesKHR(vk.physical, surface, &count, modes.data());
    if (std::find(modes.begin(), modes.end(), request.mode) == modes.end())
        client_fail("present mode " + std::to_string(request.mode) + " is not offered");

    SwapchainImages out;
    out.extent = caps.currentExtent.width == 0xFFFFFFFFu ? request.extent : caps.currentExtent;
    VkSwapchainCreateInfoKHR info{VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR};
    info.surface = surface;
    info.minImageCount = std::max(caps.minImageCount, request.min_images);
    if (caps.maxImageCount)
        info.minImageCount = std::min(info.minImageCount, caps.maxImageCount);
    info.imageFormat = format.format;
    info.imageColorSpace = format.colorSpace;
    info.imageExtent = out.extent;
    info.imageArrayLayers = 1;
    info.imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT;
    info.imageSharingMode = VK_SHARING_MODE_EXCLUSIVE;
    info.preTransform = VK_SURFACE_TRANSFORM_IDENTITY_BIT_KHR;
    info.compositeAlpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
    info.presentMode = request.mode;
    info.clipped = VK_TRUE;
    info.oldSwapchain = request.old;
    vk_check(vkCreateSwapchainKHR(vk.device, &info, nullptr, &out.handle), "vkCreateSwapchainKHR");
    vkGetSwapchainImagesKHR(vk.device, out.handle, &count, nullptr);
    out.images.resize(count);
    vk_check(vkGetSwapchainImagesKHR(vk.device, out.handle, &count, out.images.data()), "vkGetSwapchainImagesKHR");
    return out;
}

void image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to)
{
    VkImageMemoryBarrier b{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    b.srcAccessMask = from == VK_IMAGE_LAYOUT_UNDEFINED ? 0 : VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = to == VK_IMAGE_LAYOUT_PRESENT_SRC_KHR ? 0 : VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT;
    b.oldLayout = from;
    b.newLayout = to;
    b.srcQueueFamilyIndex = b.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    b.image = image;
    b.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &b);
}

VkImage create_transfer_image(const VulkanDevice& vk, VkFormat format, uint32_t size)
{
    VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = format;
    info.extent = {size, size, 1};
    info.mipLevels = info.arrayLayers = 1;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = VK_IMAGE_TILING_OPTIMAL;
    info.usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    VkImage image;
    vk_check(vkCreateImage(vk.device, &info, nullptr, &image), "vkCreateImage (transfer image)");
    VkMemoryRequirements reqs;
    vkGetImageMemoryRequirements(vk.device, image, &reqs);
    VkMemoryAllocateInfo mem{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mem.allocationSize = reqs.size;
    while (mem.memoryTypeIndex < 32 && !(reqs.memoryTypeBits & (1u << mem.memoryTypeIndex)))
        ++mem.memoryTypeIndex;
    VkDeviceMemory memory;
    vk_check(vkAllocateMemory(vk.device, &mem, nullptr, &memory), "vkAllocateMemory (transfer image)");
    vk_check(vkBindImageMemory(vk.device, image, memory, 0), "vkBindImageMemory (transfer image)");
    return image;
}

} // namespace syncway::testing
