// The DRM backend's kernel pieces that need no DRM device: the sw_sync wrapper (its errors
// here, where sw_sync is absent; the kernel's behaviour where it exists, the VM tier's
// suites.syncobj on 6.1) and reading fence errors from a sync_file.
#include "kernel/sw_sync_timeline.hpp"
#include "kernel/sync_file_status.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <poll.h>

using syncway::UniqueFd;
using syncway::syncobj::SwSyncTimeline;
using syncway::syncobj::SyncFileStatus;
using syncway::syncobj::sync_file_status;

namespace {

bool readable(int fd) { pollfd p{fd, POLLIN, 0}; return ::poll(&p, 1, 0) == 1; }

} // namespace

TEST(SwSyncTimeline, MissingFileNamesPathAndWhatIsNeeded)
{
    auto t = SwSyncTimeline::open("/nonexistent/sync/sw_sync");
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ENOENT);
    EXPECT_NE(t.error().message.find("/nonexistent/sync/sw_sync"), std::string::npos) << t.error().message;
    EXPECT_NE(t.error().message.find("CONFIG_SW_SYNC"), std::string::npos) << t.error().message;
}

TEST(SwSyncTimeline, NotATimelineFailsWithTheIoctlsName)
{
    auto t = SwSyncTimeline::open("/dev/null");
    ASSERT_TRUE(t) << t.error().message;
    auto fence = t->create_fence(1);
    ASSERT_FALSE(fence);
    EXPECT_EQ(fence.error().code, ENOTTY);
    EXPECT_NE(fence.error().message.find("SW_SYNC_IOC_CREATE_FENCE"), std::string::npos);
    EXPECT_EQ(SwSyncTimeline::advance(t->fd(), 1), -ENOTTY);
}

TEST(SyncFileStatus, RefusesWhatIsNotASyncFile)
{
    UniqueFd ev(::eventfd(0, EFD_CLOEXEC));
    SyncFileStatus st;
    EXPECT_LT(sync_file_status(ev.get(), st), 0);
    EXPECT_EQ(sync_file_status(-1, st), -EBADF);
}

// The kernel facts the DRM backend's signalers rely on: a fence stays unsignaled until the
// counter reaches it; when the timeline's last fd closes, its pending fences signal with
// -ENOENT (drivers/dma-buf/sw_sync.c, sw_sync_debugfs_release), and SYNC_IOC_FILE_INFO says so.
TEST(SwSyncTimeline, KernelFailsPendingFencesWhenTheTimelineCloses)
{
    auto t = SwSyncTimeline::open();
    if (!t)
        GTEST_SKIP() << "no sw_sync here (" << t.error().message << "); the VM tier runs this as root";
    auto signals = t->create_fence(1), orphan = t->create_fence(2);
    ASSERT_TRUE(signals) << signals.error().message;
    ASSERT_TRUE(orphan) << orphan.error().message;
    SyncFileStatus st;
    ASSERT_EQ(sync_file_status(signals->get(), st), 0);
    EXPECT_FALSE(st.signaled);
    ASSERT_TRUE(t->advance(1).ok());
    ASSERT_EQ(sync_file_status(signals->get(), st), 0);
    EXPECT_TRUE(st.signaled);
    EXPECT_EQ(st.error, 0);
    EXPECT_FALSE(readable(orphan->get()));

    UniqueFd gone = std::move(t.value()).release(); // the last fd of the timeline
    gone.reset();
    EXPECT_TRUE(readable(orphan->get())) << "closing the timeline did not signal its pending fence";
    ASSERT_EQ(sync_file_status(orphan->get(), st), 0);
    EXPECT_TRUE(st.signaled);
    EXPECT_EQ(st.error, SwSyncTimeline::kOrphanedError) << strerror(st.error);
    EXPECT_EQ(st.driver, SwSyncTimeline::kDriverName);
}
