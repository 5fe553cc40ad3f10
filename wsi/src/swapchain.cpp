#include "swapchain.hpp"

#include "log.hpp"

#include "linux-drm-syncobj-v1-client-protocol.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace syncway::wsi {

namespace {

// How long FIFO waits for the previous frame's callback before committing anyway: a compositor
// sends none while the window is hidden, and the application must not stall for that.
constexpr int64_t kFrameCallbackTimeoutNs = 1'000'000'000;

// Absolute CLOCK_MONOTONIC deadline of a Vulkan timeout (UINT64_MAX: none).
int64_t deadline_of(uint64_t timeout_ns)
{
    if (timeout_ns >= uint64_t(INT64_MAX))
        return INT64_MAX;
    int64_t now = monotonic_ns();
    return int64_t(timeout_ns) > INT64_MAX - now ? INT64_MAX : now + int64_t(timeout_ns);
}

std::chrono::steady_clock::time_point steady_of(int64_t deadline_ns)
{
    // libstdc++'s steady_clock is CLOCK_MONOTONIC.
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns));
}

} // namespace

Swapchain::Swapchain(Device& device, std::shared_ptr<SurfaceSync> sync)
    : device_(device), sync_(std::move(sync)), connection_(sync_->connection())
{
}

VkResult Swapchain::create(Device& device, const std::shared_ptr<Surface>& surface, const SurfaceOffer& offer,
                           const VkSwapchainCreateInfoKHR& info, std::shared_ptr<Swapchain>* out)
{
    auto fail = [](VkResult r, const std::string& why) {
        log(LogLevel::Error, "vkCreateSwapchainKHR: %s", why.c_str());
        return r;
    };
    bool format_found = false;
    uint32_t shm_format = shm_format_for(offer, info.imageFormat, info.compositeAlpha, &format_found);
    if (!format_found)
        return fail(VK_ERROR_INITIALIZATION_FAILED, "format " + std::to_string(info.imageFormat) +
                                                        " is not one vkGetPhysicalDeviceSurfaceFormatsKHR offers");
    if (info.imageExtent.width == 0 || info.imageExtent.height == 0 || info.imageExtent.width > offer.max_extent ||
        info.imageExtent.height > offer.max_extent)
        return fail(VK_ERROR_INITIALIZATION_FAILED, "extent " + std::to_string(info.imageExtent.width) + "x" +
                                                        std::to_string(info.imageExtent.height) + " is out of range");
    if ((info.imageUsage & ~offer.usage) != 0)
        return fail(VK_ERROR_INITIALIZATION_FAILED, "usage 0x" + std::to_string(info.imageUsage) +
                                                        " includes flags the surface does not support");
    if (std::find(offer.present_modes.begin(), offer.present_modes.end(), info.presentMode) == offer.present_modes.end())
        return fail(VK_ERROR_INITIALIZATION_FAILED, "present mode " + std::to_string(info.presentMode) + " is not offered");
    if (info.minImageCount > kMaxImageCount)
        return fail(VK_ERROR_INITIALIZATION_FAILED, "minImageCount " + std::to_string(info.minImageCount) +
                                                        " is above the maximum of " + std::to_string(kMaxImageCount));
    if (info.imageArrayLayers != 1)
        return fail(VK_ERROR_INITIALIZATION_FAILED, "imageArrayLayers must be 1");
    const VkSwapchainCreateFlagsKHR known = 0;
    if (info.flags & ~known)
        return fail(VK_ERROR_INITIALIZATION_FAILED, "swapchain flags 0x" + std::to_string(info.flags) + " are not supported");

    std::shared_ptr<SurfaceSync> sync;
    {
        std::lock_guard lock(surface->sync_mutex);
        sync = surface->sync.lock();
        if (!sync) {
            sync = SurfaceSync::create(surface->connection, surface->wl);
            if (!sync)
                return fail(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR,
                            "another VkSurfaceKHR of this wl_surface has a swapchain of its own");
            surface->sync = sync;
        }
    }

    std::shared_ptr<Swapchain> self(new Swapchain(device, std::move(sync)));
    self->present_mode_ = info.presentMode;
    self->extent_ = info.imageExtent;
    auto& connection = self->connection_;

    int s = syncobj_create(connection.timelines(), 0, &self->acquire_fd_);
    if (s < 0) {
        self->acquire_fd_ = -1;
        return fail(VK_ERROR_INITIALIZATION_FAILED,
                    std::string("creating the acquire timeline failed: ") + std::strerror(-s) + " (" + syncobj_last_error() + ")");
    }
    self->acquire_timeline_ = wp_linux_drm_syncobj_manager_v1_import_timeline(connection.syncobj_manager(), self->acquire_fd_);

    const uint32_t count = std::max(info.minImageCount, kMinImageCount);
    SharingChoice sharing = choose_image_sharing(connection, device.support, shm_format);
    ImageParams params{info.imageFormat,
                       info.imageExtent,
                       info.imageUsage,
                       0,
                       info.imageSharingMode,
                       info.queueFamilyIndexCount,
                       info.pQueueFamilyIndices,
                       shm_format,
                       sharing.sharing};
    self->slots_.resize(count);
    for (size_t i = 0; i < self->slots_.size(); ++i) {
        auto& slot = self->slots_[i];
        std::string error, note;
        VkResult r = SwapchainImage::create(device, connection, params, &slot.image, &error, &note);
        if (r == VK_ERROR_FORMAT_NOT_SUPPORTED && params.path == ImageSharing::Dmabuf) {
            // The compositor listed the format yet refused the buffer: every image goes
            // through wl_shm instead (the ones made so far are remade).
            sharing = {ImageSharing::Shm, "memfds through wl_shm: " + error + " (" + sharing.why + ")"};
            params.path = ImageSharing::Shm;
            for (auto& made : self->slots_)
                made.image.reset();
            self->image_handles_.clear();
            i = size_t(-1);
            continue;
        }
        if (r != VK_SUCCESS)
            return fail(r, error);
        if (!note.empty())
            log(LogLevel::Warn, "swapchain image %zu: %s", i, note.c_str());
        self->image_handles_.push_back(slot.image->image());
    }
    if (!connection.flush())
        return fail(VK_ERROR_SURFACE_LOST_KHR, "the Wayland connection failed");

    Swapchain* raw = self.get();
    self->worker_ = std::make_unique<PresentWorker>(device.handle, device.vk.WaitForFences, connection.timelines(),
                                                    [raw](uint32_t image, bool completed, int64_t acquired_ns) {
                                                        raw->worker_done(image, completed, acquired_ns);
                                                    });
    log(LogLevel::Info, "swapchain %ux%u, %u images, present mode %d: explicit sync on %s timelines; images: %s",
        info.imageExtent.width, info.imageExtent.height, count, int(info.presentMode),
        syncobj_backend_name(syncobj_backend_of(connection.timelines())), sharing.why.c_str());
    *out = std::move(self);
    return VK_SUCCESS;
}

Swapchain::~Swapchain()
{
    if (fifo())
        log(LogLevel::Debug, "FIFO swapchain: %llu presents, paced in acquire before %llu of them; a frame costs "
                             "%.2f ms, refresh %.2f ms",
            (unsigned long long)acquire_point_, (unsigned long long)paced_in_acquire_, double(frame_cost_ns_) / 1e6,
            double(connection_.refresh_ns()) / 1e6);
    // Frames in flight finish first: their fences, then their acquire points.
    worker_.reset();
    {
        std::lock_guard lock(connection_.dispatch_mutex());
        if (frame_callback_)
            wl_callback_destroy(frame_callback_);
        frame_callback_ = nullptr;
    }
    if (acquire_timeline_)
        wp_linux_drm_syncobj_timeline_v1_destroy(acquire_timeline_);
    slots_.clear();
    if (acquire_fd_ >= 0)
        syncobj_fd_close(connection_.timelines(), acquire_fd_);
    connection_.flush();
}

VkResult Swapchain::images(uint32_t* count, VkImage* images) const
{
    if (!images) {
        *count = uint32_t(image_handles_.size());
        return VK_SUCCESS;
    }
    uint32_t n = std::min<uint32_t>(*count, uint32_t(image_handles_.size()));
    std::copy_n(image_handles_.begin(), n, images);
    *count = n;
    return n < image_handles_.size() ? VK_INCOMPLETE : VK_SUCCESS;
}

void Swapchain::retire()
{
    retired_ = true;
}

void Swapchain::worker_done(uint32_t image, bool completed, int64_t acquired_ns)
{
    // A frame's cost: from its acquire (or the previous frame's completion, if later: the
    // device was busy with that one until then) to its fence.
    const int64_t now = monotonic_ns();
    if (acquired_ns) {
        const int64_t cost = now - std::max(acquired_ns, last_done_ns_);
        frame_cost_ns_ = (3 * frame_cost_ns_ + cost) / 4;
    }
    last_done_ns_ = now;
    {
        std::lock_guard lock(mutex_);
        slots_[image].gpu_busy = false;
    }
    cv_.notify_all();
}

VkResult Swapchain::acquire(uint64_t timeout_ns, VkSemaphore semaphore, VkFence fence, uint32_t* index)
{
    const int64_t deadline = deadline_of(timeout_ns);
    auto expired = [&] { return timeout_ns == 0 ? VK_NOT_READY : VK_TIMEOUT; };
    // FIFO paces here while a frame's cost (from its acquire, or from the previous frame's
    // completion if later, to its fence signaling: the application's recording and the
    // device's rendering) stays under three quarters of a refresh: the application gets its
    // next image when the previous frame is on screen, renders it, and its present commits at
    // once, to be shown at the next refresh (waiting in present instead puts a frame more
    // between render and screen). A costlier frame would miss every other refresh that way;
    // it is paced in present, rendered while the previous one waits for the screen.
    const int64_t refresh = connection_.refresh_ns();
    const bool pace_here = frame_cost_ns_ * 4 < refresh * 3;
    if (fifo() && pace_here != pacing_in_acquire_) {
        pacing_in_acquire_ = pace_here;
        log(LogLevel::Debug, "FIFO now paces in %s (a frame costs %.2f ms, refresh %.2f ms)",
            pace_here ? "acquire" : "present", double(frame_cost_ns_) / 1e6, double(refresh) / 1e6);
    }
    if (fifo() && !retired_ && pace_here) {
        ++paced_in_acquire_;
        switch (wait_for_frame_callback(timeout_ns == 0 ? 0 : deadline)) {
        case WaylandConnection::Wait::Done: break;
        case WaylandConnection::Wait::TimedOut: return expired();
        case WaylandConnection::Wait::Lost: return VK_ERROR_SURFACE_LOST_KHR;
        }
    }
    std::unique_lock lock(mutex_);
    for (;;) {
        if (retired_)
            return VK_ERROR_OUT_OF_DATE_KHR;
        if (connection_.lost())
            return VK_ERROR_SURFACE_LOST_KHR;
        // A free image whose last present has been consumed by the worker.
        bool busy = false;
        for (uint32_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].state != State::Free)
                continue;
            if (slots_[i].gpu_busy) {
                busy = true;
                continue;
            }
            slots_[i].state = State::Acquired;
            lock.unlock();
            VkResult r = signal_acquired(semaphore, fence);
            if (r != VK_SUCCESS) {
                lock.lock();
                slots_[i].state = State::Free;
                return r;
            }
            *index = i;
            acquired_at_ns_ = monotonic_ns();
            return VK_SUCCESS;
        }
        if (busy) {
            // Released by the compositor but the worker has yet to see its fence: moments.
            if (cv_.wait_until(lock, steady_of(deadline)) == std::cv_status::timeout && monotonic_ns() >= deadline)
                return expired();
            continue;
        }
        // Wait for the first presented image whose release point the compositor signals.
        std::vector<int> fds;
        std::vector<uint64_t> points;
        std::vector<uint32_t> which;
        for (uint32_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].state == State::Presented) {
                fds.push_back(slots_[i].image->release_fd());
                points.push_back(slots_[i].release_point);
                which.push_back(i);
            }
        }
        if (fds.empty()) {
            // Every image is acquired: none can come back before the application presents.
            if (timeout_ns == 0)
                return VK_NOT_READY;
            cv_.wait_until(lock, steady_of(deadline));
            if (monotonic_ns() >= deadline)
                return VK_TIMEOUT;
            continue;
        }
        lock.unlock();
        uint32_t first = 0;
        int r = syncobj_wait(connection_.timelines(), fds.data(), points.data(), uint32_t(fds.size()),
                             timeout_ns == 0 ? 0 : deadline, SYNCOBJ_WAIT_FOR_SUBMIT, &first);
        lock.lock();
        if (r == -ETIME)
            return expired();
        if (r < 0) {
            log(LogLevel::Error, "waiting for a release point failed: %s (%s); the compositor is gone",
                std::strerror(-r), syncobj_last_error());
            return VK_ERROR_SURFACE_LOST_KHR;
        }
        if (first < which.size() && slots_[which[first]].state == State::Presented)
            slots_[which[first]].state = State::Free;
    }
}

VkResult Swapchain::signal_acquired(VkSemaphore semaphore, VkFence fence)
{
    if (semaphore == VK_NULL_HANDLE && fence == VK_NULL_HANDLE)
        return VK_SUCCESS;
    // The image is already free: an empty submit signals the semaphore and fence at once.
    VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    submit.signalSemaphoreCount = semaphore ? 1 : 0;
    submit.pSignalSemaphores = &semaphore;
    auto queue_lock = device_.lock_queue(device_.internal_queue);
    return device_.vk.QueueSubmit(device_.internal_queue, 1, &submit, fence);
}

void Swapchain::frame_done(void* data, wl_callback* callback, uint32_t)
{
    // Runs with the connection's dispatch mutex held.
    auto* self = static_cast<Swapchain*>(data);
    wl_callback_destroy(callback);
    self->frame_callback_ = nullptr;

    self->frame_pending_ = false;
}

void Swapchain::request_frame_callback()
{
    static const wl_callback_listener listener = {.done = &Swapchain::frame_done};
    std::lock_guard lock(connection_.dispatch_mutex());
    if (frame_callback_)
        wl_callback_destroy(frame_callback_);
    frame_callback_ = wl_surface_frame(sync_->surface());
    wl_callback_add_listener(frame_callback_, &listener, this);
    frame_pending_ = true;
    frame_requested_ns_ = monotonic_ns();
}

WaylandConnection::Wait Swapchain::wait_for_frame_callback(int64_t deadline_ns)
{
    if (!frame_pending_)
        return WaylandConnection::Wait::Done;
    // A callback that does not come within the bound is given up on (hidden window).
    const int64_t bound = frame_requested_ns_ + kFrameCallbackTimeoutNs;
    auto r = connection_.dispatch_until([&] { return !frame_pending_; }, std::min(deadline_ns, bound));
    if (r == WaylandConnection::Wait::TimedOut && monotonic_ns() >= bound) {
        frame_pending_ = false;
        return WaylandConnection::Wait::Done;
    }
    return r;
}

VkResult Swapchain::present(VkQueue queue, uint32_t index, const VkSemaphore* waits, uint32_t wait_count)
{
    if (index >= slots_.size())
        return VK_ERROR_OUT_OF_DATE_KHR; // the validation layer names this misuse
    Slot& slot = slots_[index];
    VkFence fence = slot.image->fence();
    auto& vk = device_.vk;

    // The fence was consumed by the worker before the image could be acquired.
    VkResult r = vk.ResetFences(device_.handle, 1, &fence);
    if (r != VK_SUCCESS)
        return r;
    std::vector<VkPipelineStageFlags> stages(wait_count, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
    VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    submit.waitSemaphoreCount = wait_count;
    submit.pWaitSemaphores = waits;
    submit.pWaitDstStageMask = stages.data();
    {
        auto queue_lock = device_.lock_queue(queue);
        r = vk.QueueSubmit(queue, 1, &submit, fence);
    }
    if (r != VK_SUCCESS)
        return r;

    PresentWorker::Job job{index, fence, -1, -1, 0};
    job.acquired_ns = std::exchange(acquired_at_ns_, 0);
    if (retired_ || connection_.lost()) {
        // The waits still happen (the spec asks for that), the image just goes back.
        {
            std::lock_guard lock(mutex_);
            slot.state = State::Free;
            slot.gpu_busy = true;
        }
        worker_->push(job);
        return retired_ ? VK_ERROR_OUT_OF_DATE_KHR : VK_ERROR_SURFACE_LOST_KHR;
    }

    // Wait-before-signal: the point exists now; the worker signals it when the fence does.
    const uint64_t point = ++acquire_point_;
    int signaler = -1;
    int s = syncobj_submit(connection_.timelines(), acquire_fd_, point, &signaler);
    if (s < 0) {
        // Without wait-before-signal the worker signals the point from the CPU instead; the
        // compositor still gets the commit at once and waits for the point.
        if (registry().first_time("submit failed"))
            log(LogLevel::Warn, "syncobj_submit failed (%s: %s): acquire points are signaled from the CPU",
                std::strerror(-s), syncobj_last_error());
        signaler = -1;
    }
    job.signaler = signaler;
    job.timeline = acquire_fd_;
    job.point = point;
    {
        std::lock_guard lock(mutex_);
        slot.gpu_busy = true;
        slot.state = State::Presented;
        ++slot.release_point;
    }
    worker_->push(job);

    // Normally acquire already waited; an application holding several images can present
    // twice within a frame, and FIFO must not let the second commit replace the first.
    if (fifo())
        wait_for_frame_callback(INT64_MAX);

    wl_surface* surface = sync_->surface();
    const uint64_t release = slot.release_point;
    wl_surface_attach(surface, slot.image->buffer(), 0, 0);
    wl_surface_damage_buffer(surface, 0, 0, INT32_MAX, INT32_MAX);
    wp_linux_drm_syncobj_surface_v1_set_acquire_point(sync_->sync(), acquire_timeline_, uint32_t(point >> 32),
                                                      uint32_t(point));
    wp_linux_drm_syncobj_surface_v1_set_release_point(sync_->sync(), slot.image->release_timeline(),
                                                      uint32_t(release >> 32), uint32_t(release));
    if (fifo())
        request_frame_callback();
    wl_surface_commit(surface);
    if (!connection_.flush())
        return VK_ERROR_SURFACE_LOST_KHR;
    return VK_SUCCESS;
}

} // namespace syncway::wsi
