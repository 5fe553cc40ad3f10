// SigbusFallback on its own: a read of a mapping whose file was truncated completes (zeros)
// while armed and names the range's owner; unarmed, or outside the ranges, the fault goes to
// the disposition in place before (here: the default, which kills the process).
#include "sigbus_fallback.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

using namespace syncway;

namespace {

constexpr size_t kSize = 4 * 4096;

// A shared mapping of a memfd filled with 0xab, then cut down to `keep` bytes.
struct Shrunk {
    explicit Shrunk(size_t keep)
    {
        fd = memfd_create("sigbus-test", MFD_CLOEXEC);
        EXPECT_EQ(ftruncate(fd, kSize), 0);
        data = static_cast<unsigned char*>(mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        EXPECT_NE(data, MAP_FAILED);
        std::memset(data, 0xab, kSize);
        EXPECT_EQ(ftruncate(fd, off_t(keep)), 0);
    }
    ~Shrunk()
    {
        munmap(data, kSize);
        close(fd);
    }
    int fd = -1;
    unsigned char* data = nullptr;
};

unsigned sum(const volatile unsigned char* data, size_t from, size_t to)
{
    unsigned total = 0;
    for (size_t i = from; i < to; ++i)
        total += data[i];
    return total;
}

// Runs `body` in a child; returns its wait status.
template <typename Body> int in_child(Body body)
{
    pid_t pid = fork();
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

// The child died of the fault: killed by SIGBUS by default, or ended by the sanitizer build's
// report (abort, or its exit code); 0 is survival and 3 a setup failure.
bool died_of_the_fault(int status)
{
    return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3);
}

} // namespace

TEST(SigbusFallback, ArmedReadOfTruncatedRangeReadsZerosAndNamesTheOwner)
{
    auto fallback = SigbusFallback::create();
    ASSERT_TRUE(fallback) << fallback.error().message;
    ASSERT_TRUE(fallback.value()->install());
    Shrunk shrunk(4096);  // the first page stays, the other three are past the file's end
    fallback.value()->add_range(shrunk.data + 100, kSize - 200, 42, &shrunk);
    unsigned total;
    {
        auto armed = fallback.value()->arm();
        total = sum(shrunk.data, 4096, kSize);
    }
    EXPECT_EQ(total, 0u);
    EXPECT_EQ(fallback.value()->absorbed(), 1u);
    EXPECT_EQ(fallback.value()->take_faulted(), std::vector<uint64_t>{42});
    EXPECT_TRUE(fallback.value()->take_faulted().empty()) << "an owner is reported once";
}

TEST(SigbusFallback, OnlyOneExists)
{
    auto first = SigbusFallback::create();
    ASSERT_TRUE(first);
    auto second = SigbusFallback::create();
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, EBUSY);
}

TEST(SigbusFallback, UnarmedOrOutsideTheRangesTheFaultIsNotAbsorbed)
{
    auto check = [](bool armed, bool in_range) {
        return in_child([&] {
            auto fallback = SigbusFallback::create();
            if (!fallback || !fallback.value()->install())
                _exit(3);
            Shrunk shrunk(0);
            Shrunk other(0);
            fallback.value()->add_range(in_range ? shrunk.data : other.data, kSize, 1, nullptr);
            std::optional<SigbusFallback::Armed> arm;
            if (armed)
                arm.emplace(fallback.value()->arm());
            sum(shrunk.data, 0, kSize);
        });
    };
    int survived = check(true, true);
    EXPECT_TRUE(WIFEXITED(survived) && WEXITSTATUS(survived) == 0) << "status " << survived;
    for (auto [armed, in_range] : {std::pair{false, true}, std::pair{true, false}}) {
        int status = check(armed, in_range);
        EXPECT_TRUE(died_of_the_fault(status)) << "armed " << armed << ", in range " << in_range << ": status " << status;
    }
}

TEST(SigbusFallback, DroppedRangeIsNoLongerAbsorbed)
{
    int status = in_child([] {
        auto fallback = SigbusFallback::create();
        if (!fallback || !fallback.value()->install())
            _exit(3);
        Shrunk shrunk(0);
        int key = 0;
        fallback.value()->add_range(shrunk.data, kSize, 1, &key);
        auto armed = fallback.value()->arm();
        fallback.value()->drop_range(&key);
        sum(shrunk.data, 0, kSize);
    });
    EXPECT_TRUE(died_of_the_fault(status)) << "status " << status;
}
