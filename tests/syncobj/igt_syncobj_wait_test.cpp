// Cases of IGT tests/syncobj_wait.c (binary syncobjs: point 0), one test per IGT subtest.
#include "igt_wait_cases.hpp"
#include "igt_wait_matrix.hpp"

#include <atomic>
#include <chrono>
#include <thread>

using namespace syncobj_test;

namespace {
class igt_syncobj_wait : public IgtWaitCases {};
class igt_syncobj_wait_single : public IgtFixture, public ::testing::WithParamInterface<MatrixCase> {};
class igt_syncobj_wait_multi : public IgtFixture, public ::testing::WithParamInterface<MatrixCase> {};
} // namespace

TEST_F(igt_syncobj_wait, invalid_wait_bad_flags)
{
    int s = create();
    uint64_t p = 0;
    EXPECT_EQ(wait_err(&s, &p, 1, 0, 0xff), -EINVAL);
}

TEST_F(igt_syncobj_wait, invalid_wait_zero_handles)
{
    uint64_t p = 0;
    int s = create();
    EXPECT_EQ(wait_err(&s, &p, 0, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_wait, invalid_wait_illegal_handle)
{
    int bad = 1000;
    uint64_t p = 0;
    EXPECT_EQ(wait_err(&bad, &p, 1, 0, 0), -EBADF);
}

TEST_F(igt_syncobj_wait, invalid_reset_zero_handles)
{
    int s = create();
    EXPECT_EQ(syncobj_reset(dev_, &s, 0), -EINVAL);
}

TEST_F(igt_syncobj_wait, invalid_reset_illegal_handle)
{
    int bad = 1000;
    EXPECT_EQ(syncobj_reset(dev_, &bad, 1), -EBADF);
}

TEST_F(igt_syncobj_wait, invalid_reset_one_illegal_handle)
{
    int fds[3] = {create(SYNCOBJ_CREATE_SIGNALED), 1000, create(SYNCOBJ_CREATE_SIGNALED)};
    EXPECT_EQ(syncobj_reset(dev_, fds, 3), -EBADF);
    uint64_t p = 0;
    EXPECT_EQ(wait1(fds[0], p, 0, 0), 0); // untouched
}

TEST_F(igt_syncobj_wait, invalid_signal_zero_handles)
{
    int s = create();
    EXPECT_EQ(syncobj_signal(dev_, &s, nullptr, 0), -EINVAL);
}

TEST_F(igt_syncobj_wait, invalid_signal_illegal_handle)
{
    int bad = 1000;
    EXPECT_EQ(syncobj_signal(dev_, &bad, nullptr, 1), -EBADF);
}

TEST_F(igt_syncobj_wait, invalid_signal_one_illegal_handle)
{
    int fds[3] = {create(), 1000, create()};
    EXPECT_EQ(syncobj_signal(dev_, fds, nullptr, 3), -EBADF);
    EXPECT_EQ(wait1(fds[0], 0, 0, 0), -EINVAL); // still unsubmitted
}

TEST_P(igt_syncobj_wait_single, wait)
{
    require_submit();
    const MatrixCase& c = GetParam();
    int s = create();
    int sig = -1;
    if (c.flags & (kTfSubmitted | kTfSignaled))
        sig = attach(s, 0);
    if (c.flags & kTfSignaled)
        inc(sig);
    uint32_t flags = wait_flags_for(c.flags);
    EXPECT_EQ(wait1(s, 0, 0, flags), c.expect);
    EXPECT_EQ(wait1(s, 0, short_timeout(), flags), c.expect);
    if (c.expect != -ETIME) {
        EXPECT_EQ(wait1(s, 0, INT64_MAX, flags), c.expect);
    }
}
INSTANTIATE_TEST_SUITE_P(igt, igt_syncobj_wait_single, ::testing::ValuesIn(single_wait_cases(false)),
                         [](const auto& info) { return info.param.name; });

TEST_P(igt_syncobj_wait_multi, wait)
{
    require_submit();
    const MatrixCase& c = GetParam();
    int fds[5];
    uint64_t points[5] = {};
    for (int& fd : fds)
        fd = create();
    uint32_t stages = c.flags & ~(kTfAll | kTfForSubmit | kTfAvailable);
    for (int i = 0; i < 5; i++) {
        uint32_t stage = stages & -stages;
        if (stages & ~stage)
            stages &= ~stage;
        int sig = -1;
        if (stage & (kTfSubmitted | kTfSignaled))
            sig = attach(fds[i], 0);
        if (stage & kTfSignaled)
            inc(sig);
    }
    uint32_t flags = wait_flags_for(c.flags);
    EXPECT_EQ(wait_err(fds, points, 5, 0, flags), c.expect);
    EXPECT_EQ(wait_err(fds, points, 5, short_timeout(), flags), c.expect);
    if (c.expect != -ETIME) {
        EXPECT_EQ(wait_err(fds, points, 5, INT64_MAX, flags), c.expect);
    }
}
INSTANTIATE_TEST_SUITE_P(igt, igt_syncobj_wait_multi, ::testing::ValuesIn(multi_wait_cases(false)),
                         [](const auto& info) { return info.param.name; });

#define BINARY_DELAYED_CASE(name, flags)                                                            \
    TEST_F(igt_syncobj_wait, name)                                                                      \
    {                                                                                               \
        require_submit();                                                                           \
        int s = create();                                                                           \
        int sig = ((flags) & SYNCOBJ_WAIT_FOR_SUBMIT) ? -1 : attach(s, 0);                          \
        std::thread t([&] {                                                                         \
            std::this_thread::sleep_for(std::chrono::nanoseconds(kShortNs));                        \
            if (sig >= 0)                                                                           \
                inc(sig);                                                                           \
            else                                                                                    \
                syncobj_signal(dev_, &s, nullptr, 1);                                               \
        });                                                                                         \
        EXPECT_EQ(wait1(s, 0, now_ns() + kLongNs, flags), 0) << syncobj_last_error();         \
        t.join();                                                                                   \
    }
BINARY_DELAYED_CASE(wait_delayed_signal, 0)
BINARY_DELAYED_CASE(wait_for_submit_delayed_submit, SYNCOBJ_WAIT_FOR_SUBMIT)
BINARY_DELAYED_CASE(wait_all_delayed_signal, SYNCOBJ_WAIT_ALL)
BINARY_DELAYED_CASE(wait_all_for_submit_delayed_submit, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT)

TEST_F(igt_syncobj_wait, reset_unsignaled)
{
    int s = create();
    EXPECT_EQ(wait1(s, 0, 0, 0), -EINVAL);
    ASSERT_EQ(syncobj_reset(dev_, &s, 1), 0);
    EXPECT_EQ(wait1(s, 0, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_wait, reset_signaled)
{
    int s = create(SYNCOBJ_CREATE_SIGNALED);
    EXPECT_EQ(wait1(s, 0, 0, 0), 0);
    ASSERT_EQ(syncobj_reset(dev_, &s, 1), 0);
    EXPECT_EQ(wait1(s, 0, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_wait, reset_multiple_signaled)
{
    int fds[3] = {create(SYNCOBJ_CREATE_SIGNALED), create(SYNCOBJ_CREATE_SIGNALED), create(SYNCOBJ_CREATE_SIGNALED)};
    uint64_t points[3] = {};
    EXPECT_EQ(wait_err(fds, points, 3, 0, SYNCOBJ_WAIT_ALL), 0);
    ASSERT_EQ(syncobj_reset(dev_, fds, 3), 0);
    for (int fd : fds)
        EXPECT_EQ(wait1(fd, 0, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_wait, reset_during_wait_for_submit)
{
    int s = create();
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::nanoseconds(kShortNs));
        syncobj_reset(dev_, &s, 1);
        syncobj_signal(dev_, &s, nullptr, 1);
    });
    EXPECT_EQ(wait1(s, 0, now_ns() + kLongNs, SYNCOBJ_WAIT_FOR_SUBMIT), 0) << syncobj_last_error();
    t.join();
}

TEST_F(igt_syncobj_wait, signal)
{
    int s = create();
    EXPECT_EQ(wait1(s, 0, 0, 0), -EINVAL);
    EXPECT_EQ(wait1(s, 0, 0, SYNCOBJ_WAIT_FOR_SUBMIT), -ETIME);
    ASSERT_EQ(syncobj_signal(dev_, &s, nullptr, 1), 0);
    EXPECT_EQ(wait1(s, 0, 0, 0), 0);
    EXPECT_EQ(wait1(s, 0, 0, SYNCOBJ_WAIT_FOR_SUBMIT), 0);
}

TEST_F(igt_syncobj_wait, wait_any_snapshot) { snapshot_case(0, 0); }
TEST_F(igt_syncobj_wait, wait_all_snapshot) { snapshot_case(0, SYNCOBJ_WAIT_ALL); }
TEST_F(igt_syncobj_wait, wait_for_submit_snapshot) { snapshot_case(0, SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_wait, wait_all_for_submit_snapshot) { snapshot_case(0, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_wait, wait_any_complex) { complex_case(0, 0); }
TEST_F(igt_syncobj_wait, wait_all_complex) { complex_case(0, SYNCOBJ_WAIT_ALL); }
TEST_F(igt_syncobj_wait, wait_for_submit_complex) { complex_case(0, SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_wait, wait_all_for_submit_complex) { complex_case(0, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_wait, wait_any_interrupted) { interrupted_case(0, 0); }
TEST_F(igt_syncobj_wait, wait_all_interrupted) { interrupted_case(0, SYNCOBJ_WAIT_ALL); }
