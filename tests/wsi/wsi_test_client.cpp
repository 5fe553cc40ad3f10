// wsi-test-client: a Vulkan Wayland client that drives what vkcube does not, for the `wsi`
// suite. It knows nothing of the layer: it uses VK_KHR_swapchain as any application would and
// prints what it saw; the tests decide from its exit status and output.
//
//   wsi-test-client MODE [--frames N] [--present-mode fifo|mailbox|immediate] [--size WxH]
//
// MODE:
//   frames              N frames of solid colours cycling red, green, blue; prints "fps F"
//   solid-red           N red frames, then keeps the window up (presenting red) until killed
//   timeouts            acquires every image, then checks that acquire with timeout 0 answers
//                       VK_NOT_READY and with 50 ms VK_TIMEOUT after 50 ms; presents one and
//                       acquires again
//   recreate            N frames, then a new swapchain of another size with oldSwapchain:
//                       the old one answers VK_ERROR_OUT_OF_DATE_KHR, the new one presents N
//   until-error         presents frames until acquire or present fails; prints
//                       "error <VkResult>" (for the compositor killed under it)
//   two-windows         two windows, each with its own swapchain, presenting N frames from two
//                       threads at once (see two_windows), then kept up until killed
//   killed-mid-frame    N red frames, then a green frame whose image is cleared first and whose
//                       GPU work then runs for seconds; prints "presented green" and stops
//                       itself (SIGSTOP), for the test to look at the screen and then kill it
// Exit status 0 when every check held, 1 with a message naming the failed one.
#include <syncway/testing/vulkan_client.hpp>

#include <signal.h>
#include <unistd.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using syncway::testing::client_fail;
using syncway::testing::Toplevel;
using syncway::testing::VulkanDevice;
using syncway::testing::VulkanSurface;
using syncway::testing::WaylandClient;

namespace {

constexpr int32_t kScratch = 4096;

[[noreturn]] void fail(const std::string& what) { client_fail(what); }

void check(VkResult r, const char* what) { syncway::testing::vk_check(r, what); }

double now_s()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// One window: a toplevel and its VkSurfaceKHR.
struct Window {
    std::unique_ptr<Toplevel> toplevel;
    VulkanSurface surface;

    Window(WaylandClient& wl, const VulkanDevice& vk, const char* title)
        : toplevel(wl.toplevel(title)), surface(vk, wl.display(), toplevel->surface())
    {
    }
};

struct Swapchain {
    VulkanDevice& vk;
    VkSwapchainKHR handle = VK_NULL_HANDLE;
    VkExtent2D extent{};
    std::vector<VkImage> images;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkSemaphore acquired = VK_NULL_HANDLE, rendered = VK_NULL_HANDLE;
    VkFence done = VK_NULL_HANDLE;
    bool in_flight = false;
    // Its own: a command pool belongs to one thread at a time, and two windows' swapchains
    // are driven from two threads.
    VkCommandPool pool = VK_NULL_HANDLE;
    // Held around vkQueueSubmit and vkQueuePresentKHR when other threads use the queue too
    // (VkQueue use must be externally synchronized).
    std::mutex* queue_lock = nullptr;

    Swapchain(VulkanDevice& vk, VkSurfaceKHR surface, VkExtent2D size, VkPresentModeKHR mode,
              VkSwapchainKHR old = VK_NULL_HANDLE)
        : vk(vk)
    {
        auto made = syncway::testing::create_swapchain(vk, surface, {size, mode, 0, old});
        handle = made.handle;
        extent = made.extent;
        images = std::move(made.images);
        VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        check(vkCreateCommandPool(vk.device, &pool_info, nullptr, &pool), "vkCreateCommandPool");
        VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        alloc.commandPool = pool;
        alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        alloc.commandBufferCount = 1;
        check(vkAllocateCommandBuffers(vk.device, &alloc, &cmd), "vkAllocateCommandBuffers");
        VkSemaphoreCreateInfo sem{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        vkCreateSemaphore(vk.device, &sem, nullptr, &acquired);
        vkCreateSemaphore(vk.device, &sem, nullptr, &rendered);
        VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        vkCreateFence(vk.device, &fence, nullptr, &done);
    }

    ~Swapchain()
    {
        vkDeviceWaitIdle(vk.device);
        vkDestroyFence(vk.device, done, nullptr);
        vkDestroySemaphore(vk.device, acquired, nullptr);
        vkDestroySemaphore(vk.device, rendered, nullptr);
        vkFreeCommandBuffers(vk.device, pool, 1, &cmd);
        vkDestroyCommandPool(vk.device, pool, nullptr);
        vkDestroySwapchainKHR(vk.device, handle, nullptr);
    }

    void barrier(VkImage image, VkImageLayout from, VkImageLayout to)
    {
        syncway::testing::image_barrier(cmd, image, from, to);
    }

    // Acquire with the given timeout; the result as the layer gave it.
    VkResult acquire(uint64_t timeout, uint32_t* index)
    {
        wait_idle();
        return vkAcquireNextImageKHR(vk.device, handle, timeout, acquired, VK_NULL_HANDLE, index);
    }

    void wait_idle()
    {
        if (in_flight) {
            check(vkWaitForFences(vk.device, 1, &done, VK_TRUE, UINT64_MAX), "vkWaitForFences");
            vkResetFences(vk.device, 1, &done);
            in_flight = false;
        }
    }

    // Clears image `index` to `rgb` and presents it. With `heavy`, the frame's command buffer
    // then does seconds of filtered blits between two big scratch images: the clear is done,
    // the frame is not (lavapipe rasterizes blits on its threads after vkQueueSubmit returns).
    VkResult draw_and_present(uint32_t index, const float rgb[3], const VkImage* heavy = nullptr)
    {
        vkResetCommandBuffer(cmd, 0);
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        vkBeginCommandBuffer(cmd, &begin);
        barrier(images[index], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
        VkClearColorValue color{{rgb[0], rgb[1], rgb[2], 1.0f}};
        VkImageSubresourceRange range{VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        vkCmdClearColorImage(cmd, images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
        if (heavy) {
            VkImageBlit blit{};
            blit.srcSubresource = blit.dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
            blit.srcOffsets[1] = {kScratch, kScratch, 1};
            blit.dstOffsets[1] = {kScratch - 1, kScratch - 1, 1};
            for (int i = 0; i < 40; ++i)
                vkCmdBlitImage(cmd, heavy[0], VK_IMAGE_LAYOUT_GENERAL, heavy[1], VK_IMAGE_LAYOUT_GENERAL, 1, &blit,
                               VK_FILTER_LINEAR);
        }
        barrier(images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
        vkEndCommandBuffer(cmd);
        VkPipelineStageFlags stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
        VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        submit.waitSemaphoreCount = 1;
        submit.pWaitSemaphores = &acquired;
        submit.pWaitDstStageMask = &stage;
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &cmd;
        submit.signalSemaphoreCount = 1;
        submit.pSignalSemaphores = &rendered;
        std::unique_lock<std::mutex> lock;
        if (queue_lock)
            lock = std::unique_lock(*queue_lock);
        check(vkQueueSubmit(vk.queue, 1, &submit, done), "vkQueueSubmit");
        in_flight = true;
        VkPresentInfoKHR present{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
        present.waitSemaphoreCount = 1;
        present.pWaitSemaphores = &rendered;
        present.swapchainCount = 1;
        present.pSwapchains = &handle;
        present.pImageIndices = &index;
        return vkQueuePresentKHR(vk.queue, &present);
    }

    VkResult frame(const float rgb[3])
    {
        uint32_t index = 0;
        VkResult r = acquire(5'000'000'000ull, &index);
        if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
            return r;
        return draw_and_present(index, rgb);
    }
};

// Two scratch images for GPU work that takes long, in GENERAL layout (never freed: the process
// is killed).
void make_scratch(VulkanDevice& vk, VkImage out[2])
{
    VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    alloc.commandPool = vk.pool;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    VkCommandBuffer cmd;
    check(vkAllocateCommandBuffers(vk.device, &alloc, &cmd), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    vkBeginCommandBuffer(cmd, &begin);
    for (int i = 0; i < 2; ++i) {
        out[i] = syncway::testing::create_transfer_image(vk, VK_FORMAT_R8G8B8A8_UNORM, kScratch);
        syncway::testing::image_barrier(cmd, out[i], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL);
    }
    vkEndCommandBuffer(cmd);
    VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cmd;
    check(vkQueueSubmit(vk.queue, 1, &submit, VK_NULL_HANDLE), "vkQueueSubmit (scratch)");
    check(vkQueueWaitIdle(vk.queue), "vkQueueWaitIdle");
}

const float kRed[3] = {1, 0, 0}, kGreen[3] = {0, 1, 0}, kBlue[3] = {0, 0, 1};

VkPresentModeKHR parse_mode(std::string_view s)
{
    if (s == "fifo")
        return VK_PRESENT_MODE_FIFO_KHR;
    if (s == "mailbox")
        return VK_PRESENT_MODE_MAILBOX_KHR;
    if (s == "immediate")
        return VK_PRESENT_MODE_IMMEDIATE_KHR;
    fail("unknown present mode '" + std::string(s) + "'");
}

// Two windows of one process, each with its own swapchain (A: FIFO, red, half as wide as the
// size; B: MAILBOX, blue, half as high), presenting from two threads at once through one queue.
// Both sit at the output's corner; whichever is on top, a part of the other shows (A below B,
// B right of A). Prints "window X presented N frames" for each, then "two windows ok", and
// keeps both up until killed.
int two_windows(WaylandClient& wl, VulkanDevice& vk, int frames, VkExtent2D size)
{
    Window a(wl, vk, "wsi-test-client A");
    Window b(wl, vk, "wsi-test-client B");
    std::mutex queue_lock;
    Swapchain sa(vk, a.surface.handle, {size.width / 2, size.height}, VK_PRESENT_MODE_FIFO_KHR);
    Swapchain sb(vk, b.surface.handle, {size.width, size.height / 2}, VK_PRESENT_MODE_MAILBOX_KHR);
    sa.queue_lock = sb.queue_lock = &queue_lock;
    std::mutex print_lock;
    auto run = [&](Swapchain& sc, const float* rgb, const char* name) {
        for (int f = 0; f < frames; ++f)
            check(sc.frame(rgb), name);
        std::lock_guard lock(print_lock);
        std::printf("window %s presented %d frames\n", name, frames);
        std::fflush(stdout);
    };
    std::thread ta(run, std::ref(sa), kRed, "A");
    std::thread tb(run, std::ref(sb), kBlue, "B");
    ta.join();
    tb.join();
    std::printf("two windows ok\n");
    std::fflush(stdout);
    alarm(0);
    for (;;) {
        check(sa.frame(kRed), "present A");
        check(sb.frame(kBlue), "present B");
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
        fail("usage: wsi-test-client MODE [--frames N] [--present-mode M] [--size WxH]");
    std::string mode = argv[1];
    int frames = 60;
    VkPresentModeKHR present_mode = VK_PRESENT_MODE_FIFO_KHR;
    VkExtent2D size{320, 240};
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string_view opt = argv[i];
        if (opt == "--frames")
            frames = std::atoi(argv[i + 1]);
        else if (opt == "--present-mode")
            present_mode = parse_mode(argv[i + 1]);
        else if (opt == "--size" && std::sscanf(argv[i + 1], "%ux%u", &size.width, &size.height) == 2)
            ;
        else
            fail("bad option '" + std::string(opt) + "'");
    }
    // A hang is a failure too: the test sees the signal's exit status.
    alarm(60);

    WaylandClient wl;
    VulkanDevice vk;
    if (mode == "two-windows")
        return two_windows(wl, vk, frames, size);
    Window window(wl, vk, "wsi-test-client");
    const VkSurfaceKHR surface = window.surface.handle;

    if (mode == "frames" || mode == "solid-red") {
        Swapchain sc(vk, surface, size, present_mode);
        const float* colors[3] = {kRed, kGreen, kBlue};
        double start = now_s();
        for (int f = 0; f < frames; ++f)
            check(sc.frame(mode == "solid-red" ? kRed : colors[f % 3]), "present");
        sc.wait_idle();
        std::printf("fps %.1f\n", frames / (now_s() - start));
        std::fflush(stdout);
        if (mode == "solid-red") {
            alarm(0);
            for (;;)
                check(sc.frame(kRed), "present");
        }
        return 0;
    }
    if (mode == "timeouts") {
        Swapchain sc(vk, surface, size, present_mode);
        std::vector<uint32_t> held;
        for (size_t i = 0; i < sc.images.size(); ++i) {
            uint32_t index = 0;
            // No semaphore wait consumes these; a fence per acquire keeps the semaphore rule.
            VkFence fence;
            VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
            vkCreateFence(vk.device, &fi, nullptr, &fence);
            check(vkAcquireNextImageKHR(vk.device, sc.handle, 0, VK_NULL_HANDLE, fence, &index), "acquiring a free image");
            check(vkWaitForFences(vk.device, 1, &fence, VK_TRUE, 1'000'000'000), "the acquire fence");
            vkDestroyFence(vk.device, fence, nullptr);
            held.push_back(index);
        }
        VkFence fence;
        VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        vkCreateFence(vk.device, &fi, nullptr, &fence);
        uint32_t index = 0;
        VkResult r = vkAcquireNextImageKHR(vk.device, sc.handle, 0, VK_NULL_HANDLE, fence, &index);
        if (r != VK_NOT_READY)
            fail("acquire with timeout 0 and every image held returned " + std::to_string(r) + ", not VK_NOT_READY");
        double t0 = now_s();
        r = vkAcquireNextImageKHR(vk.device, sc.handle, 50'000'000, VK_NULL_HANDLE, fence, &index);
        double waited = now_s() - t0;
        if (r != VK_TIMEOUT)
            fail("acquire with a 50 ms timeout returned " + std::to_string(r) + ", not VK_TIMEOUT");
        if (waited < 0.045 || waited > 2.0)
            fail("acquire with a 50 ms timeout returned after " + std::to_string(waited) + " s");
        std::printf("not-ready ok, timeout after %.3f s ok\n", waited);
        vkDestroyFence(vk.device, fence, nullptr);
        // Present them all (their contents defined by a clear); then images come back.
        for (uint32_t i : held) {
            // The acquire semaphore of the helper is not signaled here: present through a
            // submit with no wait instead.
            vkResetCommandBuffer(sc.cmd, 0);
            VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
            vkBeginCommandBuffer(sc.cmd, &begin);
            sc.barrier(sc.images[i], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
            VkClearColorValue c{{0, 0, 1, 1}};
            VkImageSubresourceRange range{VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
            vkCmdClearColorImage(sc.cmd, sc.images[i], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &c, 1, &range);
            sc.barrier(sc.images[i], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
            vkEndCommandBuffer(sc.cmd);
            VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
            submit.commandBufferCount = 1;
            submit.pCommandBuffers = &sc.cmd;
            submit.signalSemaphoreCount = 1;
            submit.pSignalSemaphores = &sc.rendered;
            check(vkQueueSubmit(vk.queue, 1, &submit, sc.done), "vkQueueSubmit");
            sc.in_flight = true;
            VkPresentInfoKHR present{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
            present.waitSemaphoreCount = 1;
            present.pWaitSemaphores = &sc.rendered;
            present.swapchainCount = 1;
            present.pSwapchains = &sc.handle;
            present.pImageIndices = &i;
            check(vkQueuePresentKHR(vk.queue, &present), "present");
            sc.wait_idle();
        }
        // The compositor releases the first two as the later ones replace them.
        check(sc.frame(kGreen), "acquire and present after the images came back");
        check(sc.frame(kGreen), "a second frame");
        std::printf("images came back ok\n");
        return 0;
    }
    if (mode == "recreate") {
        auto old = std::make_unique<Swapchain>(vk, surface, size, present_mode);
        for (int f = 0; f < frames; ++f)
            check(old->frame(kRed), "present on the first swapchain");
        old->wait_idle();
        VkExtent2D bigger{size.width * 2, size.height * 2};
        Swapchain now(vk, surface, bigger, present_mode, old->handle);
        uint32_t index = 0;
        VkResult r = old->acquire(0, &index);
        if (r != VK_ERROR_OUT_OF_DATE_KHR)
            fail("acquire on the replaced swapchain returned " + std::to_string(r) + ", not VK_ERROR_OUT_OF_DATE_KHR");
        old.reset();
        for (int f = 0; f < frames; ++f)
            check(now.frame(kBlue), "present on the new swapchain");
        std::printf("recreated %ux%u -> %ux%u ok\n", size.width, size.height, now.extent.width, now.extent.height);
        std::fflush(stdout);
        if (frames > 0) {
            alarm(0);
            for (;;)
                check(now.frame(kBlue), "present");
        }
        return 0;
    }
    if (mode == "until-error") {
        Swapchain sc(vk, surface, size, present_mode);
        std::printf("running\n");
        std::fflush(stdout);
        for (;;) {
            VkResult r = sc.frame(kGreen);
            if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR) {
                std::printf("error %d\n", int(r));
                std::fflush(stdout);
                return r == VK_ERROR_SURFACE_LOST_KHR || r == VK_ERROR_OUT_OF_DATE_KHR ? 0 : 1;
            }
        }
    }
    if (mode == "killed-mid-frame") {
        Swapchain sc(vk, surface, size, present_mode);
        for (int f = 0; f < frames; ++f)
            check(sc.frame(kRed), "present");
        sc.wait_idle();
        std::printf("red shown\n");
        std::fflush(stdout);
        // Let the test see red before the last frame.
        sleep(2);
        uint32_t index = 0;
        check(sc.acquire(5'000'000'000ull, &index), "acquire");
        // The image is cleared green, but the frame's GPU work never ends: a layer that
        // signaled the acquire point before the frame is done would have green shown.
        VkImage scratch[2];
        make_scratch(vk, scratch);
        double t0 = now_s();
        VkResult r = sc.draw_and_present(index, kGreen, scratch);
        std::printf("submitted and presented in %.3f s\n", now_s() - t0);
        std::printf("presented green (%d) pid %d\n", int(r), int(getpid()));
        std::fflush(stdout);
        alarm(0);
        // Long enough for a layer that signaled too early to have the frame shown.
        usleep(300 * 1000);
        raise(SIGSTOP);
        return 0;
    }
    fail("unknown mode '" + mode + "'");
}
