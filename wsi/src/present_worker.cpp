#include "present_worker.hpp"

#include "log.hpp"

#include <cstring>

namespace syncway::wsi {

PresentWorker::PresentWorker(VkDevice device, PFN_vkWaitForFences wait, syncobj_device* timelines, Done done)
    : device_(device), wait_(wait), timelines_(timelines), done_(std::move(done)), thread_([this] { run(); })
{
}

PresentWorker::~PresentWorker()
{
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

void PresentWorker::push(const Job& job)
{
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(job);
    }
    cv_.notify_one();
}

void PresentWorker::run()
{
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
            if (jobs_.empty())
                return; // stop_ and nothing left
            job = jobs_.front();
            jobs_.pop_front();
        }
        VkResult r = wait_(device_, 1, &job.fence, VK_TRUE, UINT64_MAX);
        const bool completed = r == VK_SUCCESS;
        if (!completed)
            log(LogLevel::Error, "waiting for a presented frame failed (VkResult %d): its acquire point fails, "
                                 "the compositor keeps the previous frame", int(r));
        if (job.signaler >= 0) {
            if (completed) {
                int s = syncobj_signaler_signal(timelines_, job.signaler);
                if (s < 0)
                    log(LogLevel::Error, "signaling an acquire point failed: %s (%s)", std::strerror(-s),
                        syncobj_last_error());
            }
            syncobj_fd_close(timelines_, job.signaler);
        } else if (completed && job.timeline >= 0) {
            int s = syncobj_signal(timelines_, &job.timeline, &job.point, 1);
            if (s < 0)
                log(LogLevel::Error, "signaling acquire point %llu failed: %s (%s)", (unsigned long long)job.point,
                    std::strerror(-s), syncobj_last_error());
        }
        done_(job.image, completed, job.acquired_ns);
    }
}

} // namespace syncway::wsi
