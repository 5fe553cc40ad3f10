// Cases of IGT tests/syncobj_timeline.c, one test per IGT subtest (names with '_' for '-'),
// run through the public C API (syncobj.h) against the backend under test. sw_sync fences are
// played by signalers (syncobj_submit / syncobj_signaler_signal).
#include "igt_wait_cases.hpp"
#include "igt_wait_matrix.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

using namespace syncobj_test;

namespace {
class igt_syncobj_timeline : public IgtWaitCases {};
} // namespace

TEST_F(igt_syncobj_timeline, invalid_wait_bad_flags)
{
    int tl = create();
    uint64_t p = 1;
    EXPECT_EQ(wait_err(&tl, &p, 1, 0, 0xff), -EINVAL);
}

TEST_F(igt_syncobj_timeline, invalid_wait_zero_handles)
{
    int tl = create();
    uint64_t p = 1;
    EXPECT_EQ(wait_err(&tl, &p, 0, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, invalid_wait_illegal_handle)
{
    // Handles are fds here: a closed fd is EBADF, an fd of another kind EINVAL.
    uint64_t p = 1;
    int bad = 1000;
    EXPECT_EQ(wait_err(&bad, &p, 1, 0, 0), -EBADF);
    int pipefd[2];
    ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
    own(pipefd[0]);
    own(pipefd[1]);
    EXPECT_EQ(wait_err(&pipefd[0], &p, 1, 0, 0), -EINVAL);
    EXPECT_NE(std::string(syncobj_last_error()).find("pipe"), std::string::npos) << syncobj_last_error();
}

TEST_F(igt_syncobj_timeline, invalid_query_zero_handles)
{
    int tl = create();
    uint64_t v;
    EXPECT_EQ(syncobj_query(dev_, &tl, &v, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, invalid_query_illegal_handle)
{
    int bad = 1000;
    uint64_t v;
    EXPECT_EQ(syncobj_query(dev_, &bad, &v, 1, 0), -EBADF);
}

TEST_F(igt_syncobj_timeline, invalid_query_one_illegal_handle)
{
    int fds[3] = {create(), 1000, create()};
    uint64_t v[3] = {5, 5, 5};
    EXPECT_EQ(syncobj_query(dev_, fds, v, 3, 0), -EBADF);
}

TEST_F(igt_syncobj_timeline, invalid_signal_zero_handles)
{
    int tl = create();
    uint64_t p = 1;
    EXPECT_EQ(syncobj_signal(dev_, &tl, &p, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, invalid_signal_illegal_handle)
{
    int bad = 1000;
    uint64_t p = 1;
    EXPECT_EQ(syncobj_signal(dev_, &bad, &p, 1), -EBADF);
}

TEST_F(igt_syncobj_timeline, invalid_signal_illegal_point)
{
    int bad = 1000;
    uint64_t p = 0;
    EXPECT_EQ(syncobj_signal(dev_, &bad, &p, 1), -EBADF);
}

TEST_F(igt_syncobj_timeline, invalid_signal_one_illegal_handle)
{
    int fds[2] = {create(), 1000};
    uint64_t p[2] = {1, 1};
    EXPECT_EQ(syncobj_signal(dev_, fds, p, 2), -EBADF);
    EXPECT_EQ(query1(fds[0]), 0u); // nothing signaled when one entry is bad
}

TEST_F(igt_syncobj_timeline, signal_array)
{
    int fds[4] = {create(), create(), create(), create()};
    uint64_t points[4] = {1, 1, 1, 1};
    ASSERT_EQ(syncobj_signal(dev_, fds, points, 4), 0) << syncobj_last_error();
    for (int fd : fds)
        EXPECT_EQ(query1(fd), 1u);
    EXPECT_EQ(wait_err(fds, points, 4, 0, SYNCOBJ_WAIT_ALL), 0);
}

TEST_F(igt_syncobj_timeline, invalid_transfer_illegal_handle)
{
    int tl = create();
    EXPECT_EQ(syncobj_transfer(dev_, 1000, 1, tl, 1, 0), -EBADF);
    EXPECT_EQ(syncobj_transfer(dev_, tl, 1, 1000, 1, 0), -EBADF);
}

TEST_F(igt_syncobj_timeline, invalid_transfer_non_existent_point)
{
    int tl = create();
    uint64_t v = 63;
    ASSERT_EQ(syncobj_signal(dev_, &tl, &v, 1), 0);
    EXPECT_EQ(syncobj_transfer(dev_, tl, v + 11, tl, v, 0), 0) << syncobj_last_error();
    // A point above the last submitted one does not exist yet.
    EXPECT_EQ(syncobj_transfer(dev_, tl, 200, tl, 100, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, transfer_timeline_point)
{
    require_submit();
    int tl = create();
    int sig = attach(tl, 1);
    EXPECT_EQ(query1(tl), 0u);
    EXPECT_EQ(wait1(tl, 1, 0, SYNCOBJ_WAIT_ALL), -ETIME);
    inc(sig);
    EXPECT_EQ(query1(tl), 1u);
    EXPECT_EQ(wait1(tl, 1, 0, SYNCOBJ_WAIT_ALL), 0);
    uint64_t p = 2;
    ASSERT_EQ(syncobj_signal(dev_, &tl, &p, 1), 0);
    ASSERT_EQ(syncobj_transfer(dev_, tl, 3, tl, 2, 0), 0) << syncobj_last_error();
    EXPECT_EQ(query1(tl), 3u);
}

namespace {
class igt_syncobj_timeline_single : public IgtFixture, public ::testing::WithParamInterface<MatrixCase> {};
class igt_syncobj_timeline_multi : public IgtFixture, public ::testing::WithParamInterface<MatrixCase> {};
} // namespace

TEST_P(igt_syncobj_timeline_single, wait)
{
    require_submit();
    const MatrixCase& c = GetParam();
    int tl = create();
    uint64_t point = 1;
    int sig = -1;
    if (c.flags & (kTfSubmitted | kTfSignaled))
        sig = attach(tl, point);
    if (c.flags & kTfSignaled)
        inc(sig);
    uint32_t flags = wait_flags_for(c.flags);
    EXPECT_EQ(wait1(tl, point, 0, flags), c.expect);
    EXPECT_EQ(wait1(tl, point, short_timeout(), flags), c.expect);
    if (c.expect != -ETIME) {
        EXPECT_EQ(wait1(tl, point, INT64_MAX, flags), c.expect);
    }
}
INSTANTIATE_TEST_SUITE_P(igt, igt_syncobj_timeline_single, ::testing::ValuesIn(single_wait_cases(true)),
                         [](const auto& info) { return info.param.name; });

TEST_P(igt_syncobj_timeline_multi, wait)
{
    require_submit();
    const MatrixCase& c = GetParam();
    uint64_t points[5] = {1 + static_cast<uint64_t>(rand() % 1000), 0, 1 + static_cast<uint64_t>(rand() % 1000),
                          1 + static_cast<uint64_t>(rand() % 1000), 0};
    int fds[5];
    for (int& fd : fds)
        fd = create();
    uint32_t stages = c.flags & ~(kTfAll | kTfForSubmit | kTfAvailable);
    for (int i = 0; i < 5; i++) {
        uint32_t stage = stages & -stages; // lowest stage flag left; the last one sticks
        if (stages & ~stage)
            stages &= ~stage;
        int sig = -1;
        if (stage & (kTfSubmitted | kTfSignaled))
            sig = attach(fds[i], points[i]);
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
INSTANTIATE_TEST_SUITE_P(igt, igt_syncobj_timeline_multi, ::testing::ValuesIn(multi_wait_cases(true)),
                         [](const auto& info) { return info.param.name; });

#define DELAYED_CASE(name, flags)                                                                   \
    TEST_F(igt_syncobj_timeline, name)                                                                  \
    {                                                                                               \
        require_submit();                                                                           \
        int tl = create();                                                                          \
        uint64_t point = 1;                                                                         \
        int sig = ((flags) & SYNCOBJ_WAIT_FOR_SUBMIT) ? -1 : attach(tl, point);                     \
        /* wait-*-delayed-signal: the signal comes from another thread while the wait blocks. */  \
        std::thread t([&] {                                                                         \
            std::this_thread::sleep_for(std::chrono::nanoseconds(kShortNs));                        \
            if (sig >= 0)                                                                           \
                inc(sig);                                                                           \
            else                                                                                    \
                syncobj_signal(dev_, &tl, &point, 1);                                               \
        });                                                                                         \
        EXPECT_EQ(wait1(tl, point, now_ns() + kLongNs, flags), 0) << syncobj_last_error();    \
        t.join();                                                                                   \
    }
DELAYED_CASE(wait_delayed_signal, 0)
DELAYED_CASE(wait_for_submit_delayed_submit, SYNCOBJ_WAIT_FOR_SUBMIT)
DELAYED_CASE(wait_all_delayed_signal, SYNCOBJ_WAIT_ALL)
DELAYED_CASE(wait_all_for_submit_delayed_submit, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT)

TEST_F(igt_syncobj_timeline, reset_unsignaled)
{
    int tl = create();
    EXPECT_EQ(wait1(tl, 1, 0, 0), -EINVAL);
    ASSERT_EQ(syncobj_reset(dev_, &tl, 1), 0);
    EXPECT_EQ(wait1(tl, 1, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, reset_signaled)
{
    int tl = create();
    uint64_t p = 1;
    ASSERT_EQ(syncobj_signal(dev_, &tl, &p, 1), 0);
    EXPECT_EQ(wait1(tl, 1, 0, 0), 0);
    ASSERT_EQ(syncobj_reset(dev_, &tl, 1), 0);
    EXPECT_EQ(wait1(tl, 1, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, reset_multiple_signaled)
{
    int fds[3] = {create(), create(), create()};
    uint64_t points[3] = {1, 1, 1};
    ASSERT_EQ(syncobj_signal(dev_, fds, points, 3), 0);
    EXPECT_EQ(wait_err(fds, points, 3, 0, 0), 0);
    ASSERT_EQ(syncobj_reset(dev_, fds, 3), 0);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(wait1(fds[i], 1, 0, 0), -EINVAL);
}

TEST_F(igt_syncobj_timeline, reset_during_wait_for_submit)
{
    int tl = create();
    uint64_t point = 1;
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::nanoseconds(kShortNs));
        syncobj_reset(dev_, &tl, 1); // a no-op for a wait still waiting for submission
        syncobj_signal(dev_, &tl, &point, 1);
    });
    EXPECT_EQ(wait1(tl, point, now_ns() + kLongNs, SYNCOBJ_WAIT_FOR_SUBMIT), 0) << syncobj_last_error();
    t.join();
}

TEST_F(igt_syncobj_timeline, signal)
{
    int tl = create();
    uint64_t point = 1;
    EXPECT_EQ(wait1(tl, point, 0, 0), -EINVAL);
    EXPECT_EQ(wait1(tl, point, 0, SYNCOBJ_WAIT_FOR_SUBMIT), -ETIME);
    ASSERT_EQ(syncobj_signal(dev_, &tl, &point, 1), 0);
    EXPECT_EQ(wait1(tl, point, 0, 0), 0);
    EXPECT_EQ(wait1(tl, point, 0, SYNCOBJ_WAIT_FOR_SUBMIT), 0);
}

TEST_F(igt_syncobj_timeline, signal_point_0)
{
    int tl = create();
    uint64_t point = 0;
    ASSERT_EQ(syncobj_signal(dev_, &tl, &point, 1), 0);
    EXPECT_EQ(wait1(tl, 0, 0, 0), 0);
    EXPECT_EQ(wait1(tl, 0, 0, SYNCOBJ_WAIT_FOR_SUBMIT), 0);
}

TEST_F(igt_syncobj_timeline, wait_any_snapshot) { snapshot_case(1, 0); }
TEST_F(igt_syncobj_timeline, wait_all_snapshot) { snapshot_case(1, SYNCOBJ_WAIT_ALL); }
TEST_F(igt_syncobj_timeline, wait_for_submit_snapshot) { snapshot_case(1, SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_timeline, wait_all_for_submit_snapshot) { snapshot_case(1, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_timeline, wait_any_complex) { complex_case(1, 0); }
TEST_F(igt_syncobj_timeline, wait_all_complex) { complex_case(1, SYNCOBJ_WAIT_ALL); }
TEST_F(igt_syncobj_timeline, wait_for_submit_complex) { complex_case(1, SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_timeline, wait_all_for_submit_complex) { complex_case(1, SYNCOBJ_WAIT_ALL | SYNCOBJ_WAIT_FOR_SUBMIT); }
TEST_F(igt_syncobj_timeline, wait_any_interrupted) { interrupted_case(1, 0); }
TEST_F(igt_syncobj_timeline, wait_all_interrupted) { interrupted_case(1, SYNCOBJ_WAIT_ALL); }

TEST_F(igt_syncobj_timeline, host_signal_points)
{
    int tl = create();
    uint64_t value = 0;
    for (int i = 0; i < 100; i++) {
        value += 1 + static_cast<uint64_t>(rand());
        ASSERT_EQ(syncobj_signal(dev_, &tl, &value, 1), 0);
        uint64_t q = query1(tl);
        EXPECT_EQ(q, value);
        EXPECT_EQ(wait1(tl, q, 0, SYNCOBJ_WAIT_FOR_SUBMIT), 0);
        EXPECT_EQ(wait1(tl, q - 1, 0, SYNCOBJ_WAIT_ALL), 0);
    }
}

TEST_F(igt_syncobj_timeline, device_signal_unordered)
{
    require_submit();
    int tl = create();
    const int order[] = {0, 2, 1, 4, 3};
    int sigs[5];
    for (int i = 0; i < 5; i++)
        sigs[i] = attach(tl, static_cast<uint64_t>(i + 1));
    bool signaled[5] = {};
    uint64_t value = 0;
    for (int i = 0; i < 5; i++) {
        inc(sigs[order[i]]);
        signaled[order[i]] = true;
        uint64_t min_value = 0;
        for (int j = 0; j < 5 && signaled[j]; j++)
            min_value = static_cast<uint64_t>(j + 1);
        uint64_t q = query1(tl);
        EXPECT_EQ(q, min_value); // in order: exactly the prefix
        EXPECT_GE(q, value);
        value = std::max(q, value);
        EXPECT_EQ(wait1(tl, q, 0, SYNCOBJ_WAIT_FOR_SUBMIT), 0);
        EXPECT_EQ(wait1(tl, q, 0, SYNCOBJ_WAIT_ALL), 0);
    }
}

TEST_F(igt_syncobj_timeline, device_submit_unordered)
{
    require_submit();
    int tl = create();
    const uint64_t points[] = {1, 5, 3, 6, 7};
    int sigs[5];
    for (int i = 0; i < 5; i++)
        sigs[i] = attach(tl, points[i]);
    inc(sigs[0]);
    inc(sigs[1]);
    inc(sigs[2]);
    uint64_t q = query1(tl);
    EXPECT_EQ(q, 5u);
    EXPECT_EQ(wait1(tl, q, 0, SYNCOBJ_WAIT_FOR_SUBMIT), 0);
    EXPECT_EQ(wait1(tl, q, 0, SYNCOBJ_WAIT_ALL), 0);
}

TEST_F(igt_syncobj_timeline, host_signal_ordered)
{
    require_submit();
    int tl = create();
    int sigs[5];
    for (int i = 0; i < 5; i++)
        sigs[i] = attach(tl, static_cast<uint64_t>(i + 1));
    for (int i = 0; i < 3; i++)
        inc(sigs[i]);
    EXPECT_EQ(query1(tl), 3u);
    uint64_t host = 8;
    ASSERT_EQ(syncobj_signal(dev_, &tl, &host, 1), 0);
    EXPECT_EQ(query1(tl), 3u);
    inc(sigs[3]);
    inc(sigs[4]);
    EXPECT_EQ(query1(tl), 8u);
}

TEST_F(igt_syncobj_timeline, limit_32bits) // IGT: 32bits-limit
{
    // Points around INT32_MAX/UINT32_MAX and up to UINT64_MAX stay ordered (64-bit seqnos),
    // while another thread's queries never go backwards.
    int tl = create();
    std::atomic<bool> running{true};
    std::atomic<bool> monotonic{true};
    syncobj_device* qdev = nullptr;
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_AUTO, &qdev), 0);
    std::thread checker([&] {
        uint64_t last = 0;
        while (running) {
            uint64_t v = 0;
            int fd = tl;
            if (syncobj_query(qdev, &fd, &v, 1, 0) == 0) {
                if (v < last)
                    monotonic = false;
                last = v;
            }
        }
    });
    const uint64_t points[] = {1, INT32_MAX - 1ull, INT32_MAX, INT32_MAX + 1ull, UINT32_MAX - 1ull,
                               UINT32_MAX, UINT32_MAX + 1ull, UINT64_MAX - 1, UINT64_MAX};
    for (uint64_t p : points) {
        ASSERT_EQ(syncobj_signal(dev_, &tl, &p, 1), 0);
        EXPECT_EQ(query1(tl), p);
        EXPECT_EQ(wait1(tl, p, 0, 0), 0);
    }
    running = false;
    checker.join();
    syncobj_close(qdev);
    EXPECT_TRUE(monotonic.load());
}

TEST_F(igt_syncobj_timeline, query_last_submitted)
{
    // Not an IGT subtest: QUERY_LAST_SUBMITTED, exercised by IGT through vkms/amdgpu helpers.
    require_submit();
    int tl = create();
    attach(tl, 4);
    attach(tl, 9);
    EXPECT_EQ(query1(tl, SYNCOBJ_QUERY_LAST_SUBMITTED), 9u);
    EXPECT_EQ(query1(tl), 0u);
}
