// VK_KHR_swapchain for a Wayland surface the layer handles, with explicit sync:
//
// - vkQueuePresentKHR submits a fence behind the present's wait semaphores, submits the
//   frame's acquire point unsignaled (wait-before-signal), commits the buffer with that
//   acquire point and the image's release point at once, and returns; PresentWorker signals
//   the point when the fence signals. Nothing waits for rendering.
// - vkAcquireNextImageKHR hands out an image once the compositor has signaled its release
//   point (and its last present's fence has been consumed), within the timeout.
// - FIFO paces in acquire while a frame costs (acquire to fence) under 3/4 of a refresh: an
//   image is handed out once the previous commit's frame callback came (bounded, so a hidden
//   window cannot stall the application) and present commits at once. Otherwise (or if the
//   application presents twice within a refresh) present waits for the callback before
//   committing. MAILBOX and IMMEDIATE never wait for frame callbacks.
//
// Thread safety: the application synchronizes calls on one swapchain (the Vulkan rules); the
// worker thread and the Wayland frame callback touch the state under mutex_.
#pragma once

#include "layer_state.hpp"
#include "present_worker.hpp"
#include "surface_caps.hpp"
#include "surface_sync.hpp"
#include "swapchain_image.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace syncway::wsi {

class Swapchain {
public:
    static VkResult create(Device& device, const std::shared_ptr<Surface>& surface, const SurfaceOffer& offer,
                           const VkSwapchainCreateInfoKHR& info, std::shared_ptr<Swapchain>* out);
    ~Swapchain();
    Swapchain(const Swapchain&) = delete;
    Swapchain& operator=(const Swapchain&) = delete;

    Device& device() const { return device_; }
    VkSwapchainKHR handle() const { return reinterpret_cast<VkSwapchainKHR>(const_cast<Swapchain*>(this)); }

    VkResult images(uint32_t* count, VkImage* images) const;
    VkResult acquire(uint64_t timeout_ns, VkSemaphore semaphore, VkFence fence, uint32_t* index);
    // `waits` are waited for before the image is read (the present's wait semaphores; passed
    // for the first swapchain of a present only, the queue orders the rest after them).
    VkResult present(VkQueue queue, uint32_t index, const VkSemaphore* waits, uint32_t wait_count);
    // A newer swapchain replaced this one (oldSwapchain): acquire and present answer
    // VK_ERROR_OUT_OF_DATE_KHR from now on.
    void retire();

private:
    enum class State { Free, Acquired, Presented };
    struct Slot {
        std::unique_ptr<SwapchainImage> image;
        State state = State::Free;
        bool gpu_busy = false;      // a present's fence not yet consumed by the worker
        uint64_t release_point = 0; // of its latest commit (0: never committed)
    };

    Swapchain(Device& device, std::shared_ptr<SurfaceSync> sync);
    VkResult signal_acquired(VkSemaphore semaphore, VkFence fence);
    // Until the last commit's frame callback (or deadline_ns; a callback that takes over a
    // second counts as come).
    WaylandConnection::Wait wait_for_frame_callback(int64_t deadline_ns);
    bool fifo() const
    {
        return present_mode_ == VK_PRESENT_MODE_FIFO_KHR || present_mode_ == VK_PRESENT_MODE_FIFO_RELAXED_KHR;
    }
    void request_frame_callback();
    static void frame_done(void* data, wl_callback* callback, uint32_t time);
    void worker_done(uint32_t image, bool completed, int64_t acquired_ns);

    Device& device_;
    std::shared_ptr<SurfaceSync> sync_;
    WaylandConnection& connection_;
    VkPresentModeKHR present_mode_ = VK_PRESENT_MODE_FIFO_KHR;
    VkExtent2D extent_{};
    std::atomic<bool> retired_{false};

    int acquire_fd_ = -1;
    wp_linux_drm_syncobj_timeline_v1* acquire_timeline_ = nullptr;
    uint64_t acquire_point_ = 0;

    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Slot> slots_;
    std::vector<VkImage> image_handles_;

    // Under connection_.dispatch_mutex(): the frame callback and its handler.
    wl_callback* frame_callback_ = nullptr;
    std::atomic<bool> frame_pending_{false};
    int64_t frame_requested_ns_ = 0;
    // For FIFO's choice of where to pace (see acquire, with the outputs' refresh): a running
    // average of a frame's cost (acquire to fence); a stale value only moves the choice by a
    // frame.
    int64_t acquired_at_ns_ = 0;                // of the image being prepared (application thread)
    std::atomic<int64_t> frame_cost_ns_{0};     // written by the worker
    int64_t last_done_ns_ = 0;                  // the worker's own
    uint64_t paced_in_acquire_ = 0; // for the debug log
    bool pacing_in_acquire_ = true;

    std::unique_ptr<PresentWorker> worker_; // last: joined first on destruction
};

} // namespace syncway::wsi
