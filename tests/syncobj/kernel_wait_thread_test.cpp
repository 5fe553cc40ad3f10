// The host's waiter thread for kernels without SYNCOBJ_EVENTFD (host/kernel_wait_thread.hpp),
// driven by a fake kernel: its bookkeeping (which eventfd it writes, when it looks at a changed
// set of waits, what it does when the kernel refuses a target) needs no kernel. The real
// blocking wait (DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT) is exercised in the VM tier
// (syncobj-kernel.no-eventfd).
#include "host/kernel_wait_thread.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

using namespace syncobj_test;
using namespace syncway::syncobj;

namespace {

// Syncobjs as counters, with TIMELINE_WAIT's any-of semantics. A handle in `refused` makes any
// wait that includes it fail with EINVAL, as the kernel does for a target it cannot wait on.
struct FakeKernel {
    std::mutex m;
    std::condition_variable cv;
    std::map<uint32_t, uint64_t> signaled;
    std::set<uint32_t> refused;
    bool woken = false;
    int waits = 0; // wait_any calls that blocked or returned

    void signal(uint32_t handle, uint64_t point)
    {
        std::lock_guard lock(m);
        signaled[handle] = point;
        cv.notify_all();
    }
    int state(const BlockingWaitSource::Target& t)
    {
        if (refused.count(t.handle))
            return -EINVAL;
        auto it = signaled.find(t.handle);
        return it != signaled.end() && it->second >= t.point ? 0 : -ETIME;
    }
};

class FakeSource final : public BlockingWaitSource {
public:
    explicit FakeSource(FakeKernel& k) : k_(k) {}
    int wait_any(const std::vector<Target>& targets, size_t& first) override
    {
        std::unique_lock lock(k_.m);
        k_.waits++;
        for (;;) {
            for (size_t i = 0; i < targets.size(); i++) {
                int s = k_.state(targets[i]);
                if (s == -EINVAL)
                    return s;
                if (s == 0) {
                    first = i;
                    return 0;
                }
            }
            if (k_.woken) {
                k_.woken = false;
                return kWoken;
            }
            k_.cv.wait(lock);
        }
    }
    int check(const Target& t) override
    {
        std::lock_guard lock(k_.m);
        return k_.state(t);
    }
    void wake() override
    {
        std::lock_guard lock(k_.m);
        k_.woken = true;
        k_.cv.notify_all();
    }

private:
    FakeKernel& k_;
};

struct Eventfd {
    int fd = new_eventfd();
    ~Eventfd() { close(fd); }
    uint64_t value() const
    {
        uint64_t v = 0;
        return read(fd, &v, sizeof v) == sizeof v ? v : 0;
    }
};

class WaitThread : public ::testing::Test {
protected:
    FakeKernel kernel;
    KernelWaitThread thread{std::make_unique<FakeSource>(kernel)};
    std::shared_ptr<const void> keep = std::make_shared<int>(0);

    KernelWaitThread::Ticket add(uint32_t handle, uint64_t point, const Eventfd& efd)
    {
        auto t = thread.add(keep, {handle, point}, efd.fd);
        EXPECT_TRUE(t.ok());
        return std::move(t.value());
    }
    // Whether the thread let go of every reference to `keep` within 2 s.
    bool released_keep()
    {
        int64_t end = now_ns() + 2000000000;
        while (keep.use_count() > 1 && now_ns() < end)
            usleep(1000);
        return keep.use_count() == 1;
    }
};

} // namespace

TEST_F(WaitThread, WritesEachWaitOnceWhenItsPointSignals)
{
    Eventfd a, b;
    auto ta = add(1, 3, a);
    auto tb = add(2, 1, b);
    kernel.signal(1, 2); // not yet point 3
    kernel.signal(2, 1);
    ASSERT_TRUE(readable(b.fd, 2000)) << "the signaled point's eventfd was not written";
    EXPECT_FALSE(readable(a.fd, 50)) << "a wait fired before its point";
    EXPECT_EQ(b.value(), 1u);
    kernel.signal(1, 3);
    ASSERT_TRUE(readable(a.fd, 2000));
    EXPECT_EQ(a.value(), 1u);
    EXPECT_FALSE(readable(b.fd, 50)) << "a wait was written twice";
    EXPECT_EQ(thread.pending(), 0u);
    EXPECT_TRUE(released_keep()) << "the thread still holds what keeps a fired wait's handle alive";
}

TEST_F(WaitThread, AWaitAddedWhileTheThreadBlocksIsSeen)
{
    // The thread is blocked on the first wait when the second comes: it must rebuild its set.
    Eventfd a, b;
    auto ta = add(1, 5, a);
    int64_t end = now_ns() + 2000000000;
    while (now_ns() < end && [&] { std::lock_guard l(kernel.m); return kernel.waits == 0; }())
        usleep(1000);
    auto tb = add(2, 1, b);
    kernel.signal(2, 1);
    EXPECT_TRUE(readable(b.fd, 2000)) << "the thread never looked at the wait added while it blocked";
    EXPECT_FALSE(readable(a.fd, 0));
}

TEST_F(WaitThread, ACancelledWaitIsNeverWrittenAndLetGo)
{
    Eventfd a, b;
    {
        auto ta = add(1, 1, a);
    }
    EXPECT_EQ(thread.pending(), 0u);
    auto tb = add(2, 1, b);
    kernel.signal(1, 1);
    kernel.signal(2, 1);
    ASSERT_TRUE(readable(b.fd, 2000));
    EXPECT_FALSE(readable(a.fd, 50)) << "a cancelled wait was written";
    EXPECT_TRUE(released_keep());
}

TEST_F(WaitThread, ATargetTheKernelRefusesDoesNotStallTheOthers)
{
    Eventfd bad, good;
    kernel.refused.insert(7);
    auto tg = add(1, 2, good);
    auto tb = add(7, 4, bad);
    // The refused one is written at once (the host's query then tells what it is)...
    ASSERT_TRUE(readable(bad.fd, 2000)) << "a refused target was never written";
    // ...and the others are still waited for.
    EXPECT_FALSE(readable(good.fd, 50));
    kernel.signal(1, 2);
    EXPECT_TRUE(readable(good.fd, 2000)) << "one refused target stalled every other wait";
}
