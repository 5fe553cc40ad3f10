// Waits for kernel timeline points where the kernel has no DRM_IOCTL_SYNCOBJ_EVENTFD (Linux
// 5.2 to 6.5 have timeline syncobjs but not that ioctl).
//
// Why a thread, and only one per host: the only other way to learn that a point was signaled
// without blocking is a sync_file of its fence (TRANSFER to a binary syncobj, export, poll), and
// that needs the point to be submitted already, while a client may commit an acquire point
// before its GPU work is submitted (wait-before-submit). Only a blocking wait with
// WAIT_FOR_SUBMIT covers both, and DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT takes any number of
// (syncobj, point) pairs and returns when the first of them signals. So one thread blocks in one
// such wait over every pending wait of the host, writes the eventfd of each wait that
// resolves, and waits again over the rest: a thread per wait would cost a stack per held commit,
// which a client could multiply. The host's loop sees only the eventfds, as with SYNCOBJ_EVENTFD.
//
// The set of waits changes while the thread blocks; a blocking ioctl cannot be interrupted by
// an eventfd or a pipe, and interrupting it with a signal would need a process-wide handler. So
// the wait also includes a syncobj of the thread's own (BlockingWaitSource::wake signals its
// next point), and the thread rebuilds its set each time that one fires. Costs: a change or a
// resolved wait rebuilds the set, O(waits) for the kernel too; the set is bounded by the
// PointWaits alive, which the host's owner bounds per client.
#pragma once

#include <syncway/result.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace syncway::syncobj {

// The kernel side of the thread's one blocking wait (the DRM implementation is
// DrmBlockingWait; tests give their own). wait_any and check are called by the thread only;
// wake by any thread.
class BlockingWaitSource {
public:
    struct Target {
        uint32_t handle;
        uint64_t point;
    };
    static constexpr int kWoken = 1;
    virtual ~BlockingWaitSource() = default;
    // Blocks until one target is signaled or failed (0, its index in `first`), or until wake()
    // was called after the previous call returned kWoken (kWoken). -errno if the kernel refuses
    // the wait (one of the targets cannot be waited on, say).
    virtual int wait_any(const std::vector<Target>& targets, size_t& first) = 0;
    // Non-blocking: 0 if the target is signaled or failed, -ETIME if not yet, another -errno
    // if it cannot be waited on at all.
    virtual int check(const Target& target) = 0;
    // Makes the current or next wait_any return kWoken.
    virtual void wake() = 0;
};

class KernelWaitThread {
public:
    explicit KernelWaitThread(std::unique_ptr<BlockingWaitSource> source) noexcept : source_(std::move(source)) {}
    ~KernelWaitThread(); // stops the thread and joins it
    KernelWaitThread(const KernelWaitThread&) = delete;
    KernelWaitThread& operator=(const KernelWaitThread&) = delete;

    // A registered wait; destroying it cancels it: once the destructor returns, the thread
    // never writes its eventfd.
    class Ticket {
    public:
        Ticket() = default;
        Ticket(KernelWaitThread* thread, uint64_t id) noexcept : thread_(thread), id_(id) {}
        Ticket(Ticket&& o) noexcept : thread_(std::exchange(o.thread_, nullptr)), id_(o.id_) {}
        Ticket& operator=(Ticket&&) = delete;
        ~Ticket();

    private:
        KernelWaitThread* thread_ = nullptr;
        uint64_t id_ = 0;
    };

    // Writes 1 to `eventfd` once `target` is signaled or failed, or at once if the kernel
    // refuses to wait on it (the host then learns the point's state from a query). `keep` is
    // held until then (what keeps the target's handle valid). Starts the thread on first use.
    Result<Ticket> add(std::shared_ptr<const void> keep, BlockingWaitSource::Target target, int eventfd);

    // Waits registered and not yet fired or cancelled (tests).
    size_t pending() const;

private:
    struct Entry {
        std::shared_ptr<const void> keep;
        BlockingWaitSource::Target target;
        int eventfd;
    };
    void cancel(uint64_t id) noexcept;
    void run() noexcept;
    void fire(uint64_t id) noexcept; // with mutex_ held

    std::unique_ptr<BlockingWaitSource> source_;
    mutable std::mutex mutex_;
    std::map<uint64_t, Entry> entries_; // guarded by mutex_
    uint64_t next_id_ = 1;              // guarded by mutex_
    bool stopping_ = false;             // guarded by mutex_
    std::thread thread_;
};

} // namespace syncway::syncobj
