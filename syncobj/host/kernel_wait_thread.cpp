#include "kernel_wait_thread.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>

namespace syncway::syncobj {

KernelWaitThread::Ticket::~Ticket()
{
    if (thread_)
        thread_->cancel(id_);
}

KernelWaitThread::~KernelWaitThread()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    if (thread_.joinable()) {
        source_->wake();
        thread_.join();
    }
}

Result<KernelWaitThread::Ticket> KernelWaitThread::add(std::shared_ptr<const void> keep,
                                                       BlockingWaitSource::Target target, int eventfd)
{
    uint64_t id;
    {
        std::lock_guard lock(mutex_);
        if (!thread_.joinable()) {
            // The thread takes no signals: they stay the host's business (its loop's handlers),
            // and a signal could otherwise interrupt the kernel wait for nothing.
            sigset_t all, old;
            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);
            try {
                thread_ = std::thread([this] { run(); });
            } catch (const std::system_error& e) {
                pthread_sigmask(SIG_SETMASK, &old, nullptr);
                return make_error(EAGAIN, std::string("cannot start the kernel syncobj waiter thread: ") + e.what());
            }
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
        }
        id = next_id_++;
        entries_.emplace(id, Entry{std::move(keep), target, eventfd});
    }
    source_->wake();
    return Ticket(this, id);
}

size_t KernelWaitThread::pending() const
{
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void KernelWaitThread::cancel(uint64_t id) noexcept
{
    bool was_waiting;
    {
        std::lock_guard lock(mutex_);
        was_waiting = entries_.erase(id) != 0;
    }
    // The thread may be blocked on it: let it drop the target (and what keeps it alive).
    if (was_waiting)
        source_->wake();
}

void KernelWaitThread::fire(uint64_t id) noexcept
{
    auto it = entries_.find(id);
    if (it == entries_.end())
        return; // cancelled while the thread waited
    uint64_t one = 1;
    ssize_t r = write(it->second.eventfd, &one, sizeof one);
    (void)r; // one write per wait cannot overflow an eventfd's counter
    entries_.erase(it);
}

void KernelWaitThread::run() noexcept
{
    // The set the current wait covers, taken under the lock; `keeps` holds the handles valid
    // while the kernel waits on them even if their waits are cancelled meanwhile.
    std::vector<uint64_t> ids;
    std::vector<BlockingWaitSource::Target> targets;
    std::vector<std::shared_ptr<const void>> keeps;
    for (;;) {
        try {
            std::lock_guard lock(mutex_);
            ids.clear();
            targets.clear();
            keeps.clear();
            if (stopping_)
                return;
            for (const auto& [id, e] : entries_) {
                ids.push_back(id);
                targets.push_back(e.target);
                keeps.push_back(e.keep);
            }
        } catch (const std::bad_alloc&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10)); // memory comes back, or the host stops us
            continue;
        }
        size_t first = 0;
        int r = source_->wait_any(targets, first);
        if (r == BlockingWaitSource::kWoken || r == -EINTR)
            continue;
        bool fired_any = false;
        {
            std::lock_guard lock(mutex_);
            if (r == 0) {
                if (first < ids.size())
                    fire(ids[first]);
                continue;
            }
            // The kernel refused the whole wait: one target it cannot wait on (a binary
            // syncobj asked for a timeline point, say) must not stall the others. Fire the
            // ones it refuses or that are done; the host's query then tells their state.
            for (size_t i = 0; i < ids.size(); i++)
                if (source_->check(targets[i]) != -ETIME) {
                    fire(ids[i]);
                    fired_any = true;
                }
        }
        // A refusal no target explains (ENOMEM...): retry a little later rather than spin.
        if (!fired_any)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

} // namespace syncway::syncobj
