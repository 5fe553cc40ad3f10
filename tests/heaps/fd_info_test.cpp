#include "syncway/heaps/cpu_access.hpp"
#include "syncway/heaps/fd_info.hpp"

#include "syncway/heaps/allocator.hpp"
#include "syncway/unique_fd.hpp"
#include "kernel/sw_sync_timeline.hpp" // syncobj/'s, the one sw_sync wrapper
#include "test_support.hpp"

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <thread>

using namespace syncway::heaps;
using syncway::UniqueFd;
using syncway::syncobj::SwSyncTimeline;
using syncway::heaps::test::attach_write_fence;

TEST(FdInfo, ClosedFdIsEbadf)
{
    auto info = inspect_fd(-1);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().code, EBADF);
    int fd = memfd_create("x", MFD_CLOEXEC);
    close(fd);
    EXPECT_EQ(inspect_fd(fd).error().code, EBADF);
}

TEST(FdInfo, MemfdWithSeals)
{
    UniqueFd fd(memfd_create("fdinfo-test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    ASSERT_TRUE(fd);
    ASSERT_EQ(ftruncate(fd.get(), 8192), 0);
    ASSERT_EQ(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK), 0);
    auto info = inspect_fd(fd.get());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->kind, FdKind::Memfd);
    EXPECT_EQ(info->size, 8192u);
    EXPECT_TRUE(info->seals & F_SEAL_SHRINK);
    EXPECT_TRUE(info->exporter.empty());
    CpuAccessPlan plan = plan_cpu_access(info.value());
    EXPECT_TRUE(plan.mappable);
    EXPECT_TRUE(plan.cached);
    EXPECT_FALSE(plan.needs_sync);
}

TEST(FdInfo, PipeIsAnOtherFile)
{
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    UniqueFd r(p[0]), w(p[1]);
    auto info = inspect_fd(r.get());
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->kind, FdKind::Other);
}

TEST(FdInfo, PlanFollowsTheExporter)
{
    FdInfo info;
    info.kind = FdKind::DmaBuf;
    struct Case {
        const char* exporter;
        bool mappable, cached;
    } cases[] = {
        {"system", true, true},
        {"udmabuf", true, true},
        {"default_cma_region", true, true},
        {"linux,cma", true, true},
        {"system-uncached", true, false},
        {"secure@1000-protected", false, false},
        {"i915", true, false},
        {"drm", true, false},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.exporter);
        info.exporter = c.exporter;
        CpuAccessPlan plan = plan_cpu_access(info);
        EXPECT_EQ(plan.mappable, c.mappable);
        EXPECT_EQ(plan.cached, c.cached);
        EXPECT_TRUE(plan.needs_sync);
        EXPECT_NE(plan.reason.find(c.exporter), std::string::npos) << plan.reason;
    }
}

TEST(CpuAccess, MemfdNeedsNoBracket)
{
    UniqueFd fd(memfd_create("cpu-access", MFD_CLOEXEC));
    auto access = CpuAccess::begin(fd.get(), Access::Read);
    ASSERT_TRUE(access.ok()) << access.error().message;
    EXPECT_FALSE(access->bracketed());
    EXPECT_TRUE(access->end().ok());
}

TEST(CpuAccess, BadFdIsAnError)
{
    auto access = CpuAccess::begin(-1, Access::Write);
    ASSERT_FALSE(access.ok());
    EXPECT_EQ(access.error().code, EBADF);
    EXPECT_NE(access.error().message.find("fd -1"), std::string::npos);
}

TEST(WaitForFences, MemfdIsReady)
{
    UniqueFd fd(memfd_create("wait", MFD_CLOEXEC));
    EXPECT_TRUE(wait_for_fences(fd.get(), Access::Read, 0).value());
    EXPECT_TRUE(wait_for_fences(fd.get(), Access::Write, 0).value());
}

TEST(WaitForFences, TimesOutWhenNotReady)
{
    // an empty pipe is "not readable" just as a dma-buf with an unsignaled write fence is
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    UniqueFd r(p[0]), w(p[1]);
    auto start = std::chrono::steady_clock::now();
    auto ready = wait_for_fences(r.get(), Access::Read, 30);
    ASSERT_TRUE(ready.ok());
    EXPECT_FALSE(ready.value());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(25));
}

TEST(WaitForFences, ClosedFdIsEbadf)
{
    int fd = memfd_create("closed", MFD_CLOEXEC);
    close(fd);
    auto ready = wait_for_fences(fd, Access::Read, 0);
    ASSERT_FALSE(ready.ok());
    EXPECT_EQ(ready.error().code, EBADF);
}

// ---- implicit sync on a real dma-buf, with a software fence (sw_sync, debugfs) ----

namespace {

// A dma-buf from whichever kernel backend exists, or an invalid buffer.
syncway::Result<Buffer> real_dmabuf()
{
    AllocationRequest r;
    r.size = 4096;
    r.backend = BackendChoice::Heap;
    auto b = Allocator().allocate(r);
    if (b)
        return b;
    r.backend = BackendChoice::Udmabuf;
    return Allocator().allocate(r);
}

} // namespace

TEST(ImplicitSync, ReadersWaitForAPendingWriteFence)
{
    auto buffer = real_dmabuf();
    if (!buffer)
        GTEST_SKIP() << "no dma-buf backend on this kernel (" << buffer.error().message << "); the VM tier runs this";
    auto timeline = SwSyncTimeline::open();
    if (!timeline)
        GTEST_SKIP() << "no sw_sync: " << timeline.error().message << "; the VM tier has it";
    auto created = timeline->create_fence(1, "heaps-test");
    ASSERT_TRUE(created) << created.error().message;
    UniqueFd fence = std::move(created.value());
    if (!attach_write_fence(buffer->fd.get(), fence.get()))
        GTEST_SKIP() << "DMA_BUF_IOCTL_IMPORT_SYNC_FILE unsupported (kernel < 6.0): " << strerror(errno);

    auto pending = wait_for_fences(buffer->fd.get(), Access::Read, 20);
    ASSERT_TRUE(pending.ok()) << pending.error().message;
    EXPECT_FALSE(pending.value()) << "a reader must wait for the unsignaled write fence";

    // SYNC_START blocks until the fence signals (it waits for implicit fences itself).
    std::thread signaler([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        EXPECT_TRUE(timeline->advance().ok());
    });
    auto start = std::chrono::steady_clock::now();
    auto access = CpuAccess::begin(buffer->fd.get(), Access::Read);
    auto waited = std::chrono::steady_clock::now() - start;
    signaler.join();
    ASSERT_TRUE(access.ok()) << access.error().message;
    EXPECT_TRUE(access->bracketed());
    EXPECT_GE(waited, std::chrono::milliseconds(80));

    auto ready = wait_for_fences(buffer->fd.get(), Access::Read, 0);
    ASSERT_TRUE(ready.ok());
    EXPECT_TRUE(ready.value());
}
