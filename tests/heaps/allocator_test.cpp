#include "syncway/heaps/allocator.hpp"

#include "syncway/heaps/buffer_layout.hpp"
#include "syncway/heaps/cpu_access.hpp"
#include "syncway/heaps/fd_info.hpp"
#include "test_support.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

using namespace syncway::heaps;
using namespace syncway::heaps::test;

namespace {

constexpr uint64_t full_hd = 1920ull * 1080 * 4;

AllocationRequest request(uint64_t size, BackendChoice backend = BackendChoice::Auto)
{
    AllocationRequest r;
    r.size = size;
    r.backend = backend;
    r.debug_name = "heaps-test";
    return r;
}

AllocatorPaths nowhere()
{
    return {"/nonexistent/dma_heap", "/nonexistent/udmabuf"};
}

// Map, write a pattern on every page inside a CPU access bracket, read it back.
void expect_usable(const Buffer& b)
{
    auto m = b.map();
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto access = CpuAccess::begin(b.fd.get(), Access::ReadWrite);
    ASSERT_TRUE(access.ok()) << access.error().message;
    EXPECT_EQ(access->bracketed(), b.is_dmabuf());
    auto* bytes = m->as<unsigned char>();
    for (uint64_t i = 0; i < b.size; i += 4096)
        bytes[i] = static_cast<unsigned char>(0x5a ^ (i >> 12));
    for (uint64_t i = 0; i < b.size; i += 4096)
        ASSERT_EQ(bytes[i], static_cast<unsigned char>(0x5a ^ (i >> 12))) << "offset " << i;
    auto ended = access->end();
    EXPECT_TRUE(ended.ok()) << ended.error().message;
}

void expect_fdinfo(const Buffer& b, const std::string& exporter)
{
    auto info = inspect_fd(b.fd.get());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->kind, FdKind::DmaBuf);
    EXPECT_EQ(info->exporter, exporter);
    EXPECT_EQ(info->size, b.size);
    EXPECT_EQ(info->buffer_name, "heaps-test"); // DMA_BUF_SET_NAME took
    CpuAccessPlan plan = plan_cpu_access(info.value());
    EXPECT_TRUE(plan.mappable);
    EXPECT_TRUE(plan.needs_sync);
}

std::string real_udmabuf()
{
    return is_char_device(default_udmabuf_device) ? default_udmabuf_device : "";
}

} // namespace

TEST(Allocator, MemfdIsSealedMappableAndReported)
{
    int before = open_fd_count();
    {
        auto b = Allocator().allocate(request(full_hd, BackendChoice::Memfd));
        ASSERT_TRUE(b.ok()) << b.error().message;
        EXPECT_EQ(b->backend, Backend::Memfd);
        EXPECT_FALSE(b->is_dmabuf());
        EXPECT_EQ(b->size, full_hd); // already page-aligned
        EXPECT_TRUE(b->fallback_reason.empty());
        int seals = fcntl(b->fd.get(), F_GET_SEALS);
        EXPECT_TRUE(seals & F_SEAL_SHRINK);
        EXPECT_TRUE(seals & F_SEAL_GROW);
        EXPECT_FALSE(seals & F_SEAL_WRITE);
        EXPECT_TRUE(fcntl(b->fd.get(), F_GETFD) & FD_CLOEXEC);
        auto info = inspect_fd(b->fd.get());
        ASSERT_TRUE(info.ok());
        EXPECT_EQ(info->kind, FdKind::Memfd);
        EXPECT_EQ(info->size, full_hd);
        expect_usable(b.value());
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Allocator, SizeIsRoundedToWholePages)
{
    auto b = Allocator().allocate(request(1, BackendChoice::Memfd));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->size, page_size());
}

TEST(Allocator, AutoFallsBackToMemfdAndSaysWhy)
{
    int before = open_fd_count();
    {
        auto b = Allocator(nowhere()).allocate(request(full_hd));
        ASSERT_TRUE(b.ok()) << b.error().message;
        EXPECT_EQ(b->backend, Backend::Memfd);
        EXPECT_NE(b->fallback_reason.find("/nonexistent/dma_heap"), std::string::npos) << b->fallback_reason;
        EXPECT_NE(b->fallback_reason.find("/nonexistent/udmabuf"), std::string::npos) << b->fallback_reason;
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Allocator, ForcedUnavailableBackendsAreClearErrors)
{
    int before = open_fd_count();
    auto heap = Allocator(nowhere()).allocate(request(4096, BackendChoice::Heap));
    ASSERT_FALSE(heap.ok());
    EXPECT_EQ(heap.error().code, ENOENT);
    EXPECT_NE(heap.error().message.find("CONFIG_DMABUF_HEAPS"), std::string::npos) << heap.error().message;

    auto udmabuf = Allocator(nowhere()).allocate(request(4096, BackendChoice::Udmabuf));
    ASSERT_FALSE(udmabuf.ok());
    EXPECT_EQ(udmabuf.error().code, ENOENT);
    EXPECT_NE(udmabuf.error().message.find("/nonexistent/udmabuf"), std::string::npos) << udmabuf.error().message;
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Allocator, FakeDevicesAreRejectedWithoutLeaks)
{
    FixtureDir dir;
    dir.add("system");
    std::string fake_udmabuf = dir.add("udmabuf");
    Allocator allocator({dir.path(), fake_udmabuf});
    int before = open_fd_count();

    auto heap = allocator.allocate(request(4096, BackendChoice::Heap));
    ASSERT_FALSE(heap.ok());
    EXPECT_EQ(heap.error().code, ENOTTY);
    EXPECT_NE(heap.error().message.find("not a dma-buf heap device"), std::string::npos) << heap.error().message;

    auto udmabuf = allocator.allocate(request(4096, BackendChoice::Udmabuf));
    ASSERT_FALSE(udmabuf.ok());
    EXPECT_EQ(udmabuf.error().code, ENOTTY);
    EXPECT_NE(udmabuf.error().message.find(fake_udmabuf), std::string::npos) << udmabuf.error().message;

    auto fallback = allocator.allocate(request(4096));
    ASSERT_TRUE(fallback.ok()) << fallback.error().message;
    EXPECT_EQ(fallback->backend, Backend::Memfd);
    EXPECT_NE(fallback->fallback_reason.find("'system'"), std::string::npos) << fallback->fallback_reason;
    fallback = syncway::make_error(0); // drop the buffer
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Allocator, UnknownHeapNameIsAnErrorNotAFallback)
{
    FixtureDir dir;
    dir.add("system");
    int before = open_fd_count();
    AllocationRequest r = request(4096);
    r.heap_name = "nosuch";
    auto b = Allocator({dir.path(), "/nonexistent/udmabuf"}).allocate(r);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code, ENOENT);
    EXPECT_NE(b.error().message.find("'nosuch'"), std::string::npos);
    EXPECT_NE(b.error().message.find("available: system"), std::string::npos) << b.error().message;
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Allocator, BadSizesForEveryBackend)
{
    int before = open_fd_count();
    for (BackendChoice c : {BackendChoice::Auto, BackendChoice::Heap, BackendChoice::Udmabuf, BackendChoice::Memfd}) {
        SCOPED_TRACE(to_string(c));
        auto zero = Allocator().allocate(request(0, c));
        ASSERT_FALSE(zero.ok());
        EXPECT_EQ(zero.error().code, EINVAL);
        EXPECT_NE(zero.error().message.find("0 bytes"), std::string::npos);

        auto huge = Allocator().allocate(request(uint64_t{1} << 62, c));
        ASSERT_FALSE(huge.ok());
        EXPECT_EQ(huge.error().code, ENOMEM);
        EXPECT_NE(huge.error().message.find("physical memory"), std::string::npos) << huge.error().message;

        auto overflow = Allocator().allocate(request(std::numeric_limits<uint64_t>::max(), c));
        ASSERT_FALSE(overflow.ok());
        EXPECT_EQ(overflow.error().code, EOVERFLOW);
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(Allocator, HeapOpenDeniedNamesThePath)
{
    FixtureDir dir;
    chmod(dir.path().c_str(), 0755);
    dir.add("system", 0600);
    // Root opens anything: check as an unprivileged user in a child process.
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        if (geteuid() != 0)
            chmod((dir.path() + "/system").c_str(), 0);
        int before = open_fd_count();
        auto b = Allocator({dir.path(), "/nonexistent/udmabuf"}).allocate(request(4096, BackendChoice::Heap));
        if (b.ok())
            _exit(11);
        if (b.error().code != EACCES)
            _exit(12);
        if (b.error().message.find(dir.path() + "/system") == std::string::npos ||
            b.error().message.find("read-write access") == std::string::npos)
            _exit(13);
        _exit(open_fd_count() == before ? 0 : 14);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: cannot drop privileges, 11: allocation succeeded, 12: not EACCES, "
                                         "13: message lacks the path or hint, 14: fd leaked";
}

TEST(Allocator, ProbeReportsEachBackend)
{
    auto s = Allocator(nowhere()).probe();
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].backend, Backend::Heap);
    EXPECT_FALSE(s[0].available);
    EXPECT_EQ(s[1].backend, Backend::Udmabuf);
    EXPECT_FALSE(s[1].available);
    EXPECT_NE(s[1].detail.find("/nonexistent/udmabuf"), std::string::npos);
    EXPECT_EQ(s[2].backend, Backend::Memfd);
    EXPECT_TRUE(s[2].available);
}

TEST(Allocator, BackendNamesRoundTrip)
{
    for (BackendChoice c : {BackendChoice::Auto, BackendChoice::Heap, BackendChoice::Udmabuf, BackendChoice::Memfd})
        EXPECT_EQ(parse_backend_choice(to_string(c)), c);
    EXPECT_FALSE(parse_backend_choice("ion").has_value());
}

// ---- real kernel interfaces: here when the kernel has them, always in the VM tier ----

TEST(AllocatorRealHeap, AllocatesNamedMappableDmaBuf)
{
    std::string heap = first_real_heap();
    if (heap.empty())
        GTEST_SKIP() << "no dma-buf heap: /dev/dma_heap is absent (kernel without CONFIG_DMABUF_HEAPS); "
                        "the VM tier runs this";
    int before = open_fd_count();
    {
        AllocationRequest r = request(full_hd);
        r.heap_name = heap;
        auto b = Allocator().allocate(r);
        ASSERT_TRUE(b.ok()) << b.error().message;
        EXPECT_EQ(b->backend, Backend::Heap);
        EXPECT_EQ(b->heap_name, heap);
        EXPECT_TRUE(b->is_dmabuf());
        EXPECT_TRUE(fcntl(b->fd.get(), F_GETFD) & FD_CLOEXEC);
        EXPECT_EQ(fcntl(b->fd.get(), F_GETFL) & O_ACCMODE, O_RDWR);
        expect_fdinfo(b.value(), heap);
        expect_usable(b.value());
        auto ready = wait_for_fences(b->fd.get(), Access::Read, 1000);
        ASSERT_TRUE(ready.ok());
        EXPECT_TRUE(ready.value());
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(AllocatorRealHeap, AutoPrefersTheHeap)
{
    if (first_real_heap().empty())
        GTEST_SKIP() << "no dma-buf heap: /dev/dma_heap is absent; the VM tier runs this";
    auto b = Allocator().allocate(request(4096));
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(b->backend, Backend::Heap);
    EXPECT_TRUE(b->fallback_reason.empty()) << b->fallback_reason;
}

TEST(AllocatorRealHeap, OpenDeniedForUnprivilegedUser)
{
    std::string heap = first_real_heap();
    if (heap.empty())
        GTEST_SKIP() << "no dma-buf heap: /dev/dma_heap is absent; the VM tier runs this";
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to drop to an unprivileged user";
    struct stat st {};
    stat(("/dev/dma_heap/" + heap).c_str(), &st);
    if (st.st_mode & S_IWOTH)
        GTEST_SKIP() << "the heap is world-writable here: nothing to deny";
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        AllocationRequest r = request(4096);
        r.heap_name = heap;
        auto b = Allocator().allocate(r);
        _exit(!b.ok() && b.error().code == EACCES ? 0 : 11);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(AllocatorRealUdmabuf, WrapsASealedMemfd)
{
    if (real_udmabuf().empty())
        GTEST_SKIP() << "no /dev/udmabuf (kernel without CONFIG_UDMABUF); the VM tier runs this";
    int before = open_fd_count();
    {
        auto b = Allocator().allocate(request(full_hd, BackendChoice::Udmabuf));
        ASSERT_TRUE(b.ok()) << b.error().message;
        EXPECT_EQ(b->backend, Backend::Udmabuf);
        EXPECT_TRUE(b->is_dmabuf());
        expect_fdinfo(b.value(), "udmabuf");
        expect_usable(b.value());
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(AllocatorRealUdmabuf, AboveTheSizeLimitIsAClearError)
{
    if (real_udmabuf().empty())
        GTEST_SKIP() << "no /dev/udmabuf (kernel without CONFIG_UDMABUF); the VM tier runs this";
    uint64_t limit_mb = 0;
    std::ifstream("/sys/module/udmabuf/parameters/size_limit_mb") >> limit_mb;
    if (limit_mb == 0)
        GTEST_SKIP() << "udmabuf's size_limit_mb is not readable";
    uint64_t size = (limit_mb + 1) << 20;
    auto r = checked_allocation_size(size);
    if (!r.ok())
        GTEST_SKIP() << "the limit is above this machine's memory";
    int before = open_fd_count();
    auto b = Allocator().allocate(request(size, BackendChoice::Udmabuf));
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code, EINVAL);
    EXPECT_NE(b.error().message.find("size_limit_mb"), std::string::npos) << b.error().message;
    EXPECT_EQ(open_fd_count(), before);
}

// ---- kernel allocation failures, injected (VM tier: CONFIG_FAULT_INJECTION, fail-nth) ----

namespace {

// Sets a debugfs fault-injection knob for the test's duration and restores it afterwards.
class KnobGuard {
public:
    KnobGuard(std::string path, const std::string& value) : path_(std::move(path))
    {
        std::ifstream in(path_);
        ok_ = static_cast<bool>(std::getline(in, old_));
        if (ok_)
            ok_ = static_cast<bool>(std::ofstream(path_) << value);
    }
    ~KnobGuard()
    {
        if (ok_)
            std::ofstream(path_) << old_;
    }
    bool ok() const { return ok_; }

private:
    std::string path_, old_;
    bool ok_ = false;
};

} // namespace

// Fails the 1st, 2nd, ... kernel allocation of one allocate() call in turn (fail-nth) until a
// call runs without reaching its injected failure: every failure must come back as an error
// with a message, and no fd may be left behind.
TEST(AllocatorFaultInjection, KernelAllocationFailuresAreClearErrorsWithoutLeaks)
{
    if (first_real_heap().empty() && real_udmabuf().empty())
        GTEST_SKIP() << "no dma-buf heap or udmabuf on this kernel; the VM tier runs this";
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root for the debugfs fault-injection knobs";
    syncway::UniqueFd fail_nth(open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC));
    if (!fail_nth)
        GTEST_SKIP() << "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION); the VM tier has it";
    // By default failslab and fail_page_alloc spare allocations that may sleep (most of them).
    KnobGuard slab("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
    KnobGuard pages("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
    KnobGuard verbose_slab("/sys/kernel/debug/failslab/verbose", "0");
    KnobGuard verbose_pages("/sys/kernel/debug/fail_page_alloc/verbose", "0");
    if (!slab.ok() || !pages.ok())
        GTEST_SKIP() << "cannot set the failslab/fail_page_alloc debugfs knobs";

    for (BackendChoice backend : {BackendChoice::Heap, BackendChoice::Udmabuf}) {
        if ((backend == BackendChoice::Heap ? first_real_heap() : real_udmabuf()).empty())
            continue;
        SCOPED_TRACE(to_string(backend));
        int failed = 0, enomem = 0;
        std::string example;
        bool completed = false;
        for (int n = 1; n <= 3000 && !completed; ++n) {
            int before = open_fd_count();
            std::string count = std::to_string(n);
            ASSERT_EQ(pwrite(fail_nth.get(), count.data(), count.size(), 0), static_cast<ssize_t>(count.size()));
            auto buffer = Allocator().allocate(request(full_hd, backend));
            char left[32] = {};
            ssize_t got = pread(fail_nth.get(), left, sizeof left - 1, 0);
            (void)!pwrite(fail_nth.get(), "0", 1, 0); // off again, whatever happened
            completed = got > 0 && std::atoi(left) > 0; // the injection point was never reached
            if (!buffer) {
                ++failed;
                enomem += buffer.error().code == ENOMEM;
                if (buffer.error().code == ENOMEM && example.empty())
                    example = buffer.error().message;
                EXPECT_FALSE(buffer.error().message.empty()) << "fault " << n;
            } else {
                expect_usable(buffer.value()); // a call that survived its fault must be whole
            }
            buffer = syncway::make_error(0);
            EXPECT_EQ(open_fd_count(), before) << "fault " << n << " leaked an fd";
        }
        EXPECT_TRUE(completed) << "still failing after 3000 injection points";
        EXPECT_GT(failed, 0) << "no injected failure reached the caller";
        EXPECT_GT(enomem, 0) << "no failure came back as ENOMEM";
        std::printf("[ INFO ] %s: %d of the injected kernel allocation failures reached the caller (%d as ENOMEM, "
                    "e.g. \"%s\")\n",
                    to_string(backend), failed, enomem, example.c_str());
    }
}
