// The fixture of the IGT-derived cases: a device on the backend chosen by
// $SYNCOBJ_TEST_BACKEND (default here: a private syncobjd), fd-leak checks around each test,
// and unsignaled submissions: attach() submits an unsignaled point and returns its signaler,
// inc() signals it, both through the API (syncobj_submit, syncobj_signaler_signal). On the
// service they are its signalers; on the DRM backend they are what IGT itself uses, a sw_sync
// timeline whose fence at 1 is imported at the point (debugfs, root: the VM tier).
#pragma once

#include "test_support.hpp"
#include "kernel/sw_sync_timeline.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace syncobj_test {

constexpr int64_t kShortNs = 20 * 1000 * 1000;
// Deadline of waits that must succeed: generous, the CI host may be loaded (and sanitized).
constexpr int64_t kLongNs = 10ll * 1000 * 1000 * 1000;

class IgtFixture : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        const char* forced = getenv("SYNCOBJ_TEST_BACKEND"); // the VM tier sets drm
        if (!forced || std::string(forced) == "service")
            daemon_ = new Daemon();
        else
            setenv("SYNCWAY_SYNCOBJ_BACKEND", forced, 1);
    }
    static void TearDownTestSuite()
    {
        delete daemon_;
        daemon_ = nullptr;
    }
    void SetUp() override
    {
        fds_before_ = count_open_fds();
        int r = syncobj_open(SYNCOBJ_BACKEND_AUTO, &dev_);
        if (r == -ENODEV && !daemon_)
            GTEST_SKIP() << "the forced backend is not available here: " << syncobj_last_error();
        ASSERT_EQ(r, 0) << syncobj_last_error();
    }
    void TearDown() override
    {
        for (int fd : owned_)
            close(fd);
        if (dev_)
            syncobj_close(dev_);
        EXPECT_EQ(count_open_fds(), fds_before_) << "fd leak";
    }

    int create(uint32_t flags = 0)
    {
        int fd = -1;
        EXPECT_EQ(syncobj_create(dev_, flags, &fd), 0) << syncobj_last_error();
        return own(fd);
    }
    int own(int fd)
    {
        if (fd >= 0)
            owned_.push_back(fd);
        return fd;
    }
    void drop(int fd)
    {
        for (auto& o : owned_)
            if (o == fd)
                o = -1;
        close(fd);
    }
    // IGT's syncobj_attach_sw_sync: sw_sync_timeline_create + create_fence + import at `point`.
    int attach(int tl, uint64_t point)
    {
        int sig = -1;
        int r = syncobj_submit(dev_, tl, point, &sig);
        EXPECT_EQ(r, 0) << syncobj_last_error();
        return own(sig);
    }
    void inc(int signaler) { EXPECT_EQ(syncobj_signaler_signal(dev_, signaler), 0) << syncobj_last_error(); }
    // The DRM backend's signalers are sw_sync timelines (debugfs, root).
    void require_submit()
    {
        using syncway::syncobj::SwSyncTimeline;
        if (syncobj_backend_of(dev_) != SYNCOBJ_BACKEND_SERVICE && access(SwSyncTimeline::kPath, R_OK | W_OK) != 0)
            GTEST_SKIP() << "needs unsignaled submissions: the service's signalers, or sw_sync ("
                         << SwSyncTimeline::kPath << ", debugfs as root) on a kernel backend";
    }
    int wait_err(const int* fds, const uint64_t* points, uint32_t count, int64_t timeout, uint32_t flags,
                 uint32_t* first = nullptr)
    {
        return syncobj_wait(dev_, fds, points, count, timeout, flags, first);
    }
    int wait1(int fd, uint64_t point, int64_t timeout, uint32_t flags)
    {
        return wait_err(&fd, &point, 1, timeout, flags);
    }
    uint64_t query1(int fd, uint32_t flags = 0)
    {
        uint64_t v = ~0ull;
        EXPECT_EQ(syncobj_query(dev_, &fd, &v, 1, flags), 0) << syncobj_last_error();
        return v;
    }
    static int64_t short_timeout() { return now_ns() + kShortNs; }

    syncobj_device* dev_ = nullptr;
    std::vector<int> owned_;
    int fds_before_ = 0;
    static inline Daemon* daemon_ = nullptr;
};

} // namespace syncobj_test
