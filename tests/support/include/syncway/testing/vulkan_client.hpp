// The set-up every Vulkan Wayland client of ours repeats (the wsi suite's test client, the B7
// benchmark): a Wayland connection with its toplevels, a Vulkan instance and device, surfaces
// and swapchains on them. Only what applications do through the public API: nothing here knows
// of the layer, so what it sets up is what the layer sees from any application.
#pragma once

#include <syncway/testing/core_globals.hpp>
#include <syncway/testing/toplevel.hpp>

#define VK_USE_PLATFORM_WAYLAND_KHR 1
#include <vulkan/vulkan.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace syncway::testing {

// Prints "PROGRAM: FAILED: what" on stderr and exits with status 1: these clients' callers
// (tests, the benchmark) judge them by their exit status and output.
[[noreturn]] void client_fail(const std::string& what);
// client_fail unless `r` is VK_SUCCESS.
void vk_check(VkResult r, const char* what);

// A connection to $WAYLAND_DISPLAY with the core globals bound (client_fail without them).
class WaylandClient {
public:
    // Sees every global that is not a core one (e.g. wp_presentation), during the constructor.
    using ExtraGlobal = std::function<void(wl_registry*, uint32_t name, const char* interface)>;
    explicit WaylandClient(ExtraGlobal extra = {});
    ~WaylandClient();
    WaylandClient(const WaylandClient&) = delete;
    WaylandClient& operator=(const WaylandClient&) = delete;

    wl_display* display() const { return display_; }
    const CoreGlobals& globals() const { return globals_; }
    // A new toplevel titled `title`, once the compositor configured it (client_fail after 10 s).
    std::unique_ptr<Toplevel> toplevel(const char* title);

private:
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    ExtraGlobal extra_;
    CoreGlobals globals_;
};

// A Vulkan 1.1 instance with the Wayland surface extensions, its first physical device, a
// device with VK_KHR_swapchain and one queue of family 0, and a command pool whose buffers can
// be reset.
class VulkanDevice {
public:
    VulkanDevice();
    ~VulkanDevice(); // waits for the device to be idle first
    VulkanDevice(const VulkanDevice&) = delete;
    VulkanDevice& operator=(const VulkanDevice&) = delete;

    VkInstance instance = VK_NULL_HANDLE;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VkDevice device = VK_NULL_HANDLE;
    VkQueue queue = VK_NULL_HANDLE;
    VkCommandPool pool = VK_NULL_HANDLE;
};

// A VkSurfaceKHR of a wl_surface (client_fail unless queue family 0 can present to it).
class VulkanSurface {
public:
    VulkanSurface(const VulkanDevice& vk, wl_display* display, wl_surface* surface);
    ~VulkanSurface();
    VulkanSurface(const VulkanSurface&) = delete;
    VulkanSurface& operator=(const VulkanSurface&) = delete;

    VkSurfaceKHR handle = VK_NULL_HANDLE;

private:
    VkInstance instance_;
};

struct SwapchainRequest {
    VkExtent2D extent{};                    // used when the surface leaves the size to the swapchain
    VkPresentModeKHR mode = VK_PRESENT_MODE_FIFO_KHR; // client_fail when the surface does not offer it
    uint32_t min_images = 0;                // at least the surface's minimum, at most its maximum
    VkSwapchainKHR old = VK_NULL_HANDLE;
};

struct SwapchainImages {
    VkSwapchainKHR handle = VK_NULL_HANDLE;
    VkExtent2D extent{};
    std::vector<VkImage> images;
};

// A B8G8R8A8_UNORM (else the first offered format) swapchain, opaque, usable as a transfer
// destination and a colour attachment. The caller destroys it.
SwapchainImages create_swapchain(const VulkanDevice& vk, VkSurfaceKHR surface, const SwapchainRequest& request);

// A layout transition of a colour image between transfers (and to or from presentation).
void image_barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to);

// An OPTIMAL size x size image for transfers in and out, on its own memory, for GPU work that
// takes long. Lives as long as the device (the process ends first).
VkImage create_transfer_image(const VulkanDevice& vk, VkFormat format, uint32_t size);

} // namespace syncway::testing
