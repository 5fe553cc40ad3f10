// The thread that turns "the GPU finished a presented image" into "its acquire point is
// signaled": it waits for each present's fence in order and signals the point through the
// signaler that syncobj_submit returned (one syscall, no round trip). The compositor, which got
// the commit at once, shows the frame the moment that happens.
//
// If the fence wait fails (device lost), the signaler is closed unsignaled: the point fails and
// the compositor keeps the previous frame. The same happens, through the kernel closing the
// fd, when the whole process dies with frames in flight.
#pragma once

#include "vk.hpp"

#include <syncobj/syncobj.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace syncway::wsi {

class PresentWorker {
public:
    struct Job {
        uint32_t image = 0;
        VkFence fence = VK_NULL_HANDLE;
        // The signaler of the acquire point; -1 when submitting the point failed, then the
        // worker signals `point` on `timeline` from the CPU after the fence instead.
        int signaler = -1;
        int timeline = -1;
        uint64_t point = 0;
        int64_t acquired_ns = 0; // when the image was acquired (0: unknown), passed to Done
    };
    // Called on the worker thread after each job, with whether the GPU work completed.
    using Done = std::function<void(uint32_t image, bool completed, int64_t acquired_ns)>;

    PresentWorker(VkDevice device, PFN_vkWaitForFences wait, syncobj_device* timelines, Done done);
    // Finishes every queued job (waits for their fences), then joins.
    ~PresentWorker();
    PresentWorker(const PresentWorker&) = delete;
    PresentWorker& operator=(const PresentWorker&) = delete;

    void push(const Job& job);

private:
    void run();

    VkDevice device_;
    PFN_vkWaitForFences wait_;
    syncobj_device* timelines_;
    Done done_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace syncway::wsi
