// Cases of IGT tests/syncobj_eventfd.c, one test per IGT subtest.
#include "igt_fixture.hpp"

#include <fcntl.h>

using namespace syncobj_test;

namespace {

class igt_syncobj_eventfd : public IgtFixture {
protected:
    int efd() { return own(new_eventfd()); }
    // IGT's ev_fd_assert_{un,}signaled: poll (10 ms when nothing is expected), then read.
    void assert_unsignaled(int fd)
    {
        EXPECT_FALSE(readable(fd, 10));
        uint64_t v;
        EXPECT_EQ(read(fd, &v, sizeof v), -1);
        EXPECT_EQ(errno, EAGAIN);
    }
    void assert_signaled(int fd)
    {
        EXPECT_TRUE(readable(fd, 5000));
        uint64_t v = 0;
        EXPECT_EQ(read(fd, &v, sizeof v), static_cast<ssize_t>(sizeof v));
        EXPECT_EQ(v, 1u);
    }
    void wait_case(uint64_t point)
    {
        require_submit();
        int s = create();
        int sig = attach(s, point);
        int ew = efd(), ea = efd();
        ASSERT_EQ(syncobj_eventfd(dev_, s, point, ew, 0), 0) << syncobj_last_error();
        ASSERT_EQ(syncobj_eventfd(dev_, s, point, ea, SYNCOBJ_WAIT_AVAILABLE), 0);
        assert_unsignaled(ew);
        assert_signaled(ea);
        inc(sig);
        assert_signaled(ew);
    }
    void wait_before_signal_case(uint64_t point)
    {
        require_submit();
        int s = create();
        int ew = efd(), ea = efd();
        ASSERT_EQ(syncobj_eventfd(dev_, s, point, ew, 0), 0) << syncobj_last_error();
        ASSERT_EQ(syncobj_eventfd(dev_, s, point, ea, SYNCOBJ_WAIT_AVAILABLE), 0);
        assert_unsignaled(ew);
        assert_unsignaled(ea);
        int sig = attach(s, point);
        assert_unsignaled(ew);
        assert_signaled(ea);
        inc(sig);
        assert_signaled(ew);
    }
    void wait_signaled_case(uint64_t point)
    {
        require_submit();
        int s = create();
        int ew = efd(), ea = efd();
        inc(attach(s, point));
        ASSERT_EQ(syncobj_eventfd(dev_, s, point, ew, 0), 0);
        ASSERT_EQ(syncobj_eventfd(dev_, s, point, ea, SYNCOBJ_WAIT_AVAILABLE), 0);
        assert_signaled(ew);
        assert_signaled(ea);
    }
};

} // namespace

TEST_F(igt_syncobj_eventfd, invalid_bad_flags)
{
    int s = create(SYNCOBJ_CREATE_SIGNALED);
    EXPECT_EQ(syncobj_eventfd(dev_, s, 0, efd(), 0xdeadbeef), -EINVAL);
}

TEST_F(igt_syncobj_eventfd, invalid_illegal_handle)
{
    // Handles are fds: a closed fd is EBADF.
    EXPECT_EQ(syncobj_eventfd(dev_, 1000, 0, efd(), 0), -EBADF);
}

TEST_F(igt_syncobj_eventfd, invalid_illegal_eventfd)
{
    int s = create(SYNCOBJ_CREATE_SIGNALED);
    int null = own(open("/dev/null", O_RDWR | O_CLOEXEC));
    ASSERT_GE(null, 0);
    EXPECT_EQ(syncobj_eventfd(dev_, s, 0, null, 0), -EINVAL);
    EXPECT_NE(std::string(syncobj_last_error()).find("/dev/null"), std::string::npos) << syncobj_last_error();
}

TEST_F(igt_syncobj_eventfd, binary_wait) { wait_case(0); }
TEST_F(igt_syncobj_eventfd, binary_wait_before_signal) { wait_before_signal_case(0); }
TEST_F(igt_syncobj_eventfd, binary_wait_signaled) { wait_signaled_case(0); }
TEST_F(igt_syncobj_eventfd, timeline_wait) { wait_case(1); }
TEST_F(igt_syncobj_eventfd, timeline_wait_before_signal) { wait_before_signal_case(1); }
TEST_F(igt_syncobj_eventfd, timeline_wait_signaled) { wait_signaled_case(1); }

TEST_F(igt_syncobj_eventfd, fires_once_rechecked_on_every_new_point)
{
    // docs/DESIGN.md §3, timelines: one-shot, re-checked on every new point; not an IGT subtest.
    int s = create();
    int ew = efd();
    ASSERT_EQ(syncobj_eventfd(dev_, s, 3, ew, 0), 0);
    for (uint64_t p = 1; p <= 2; p++) {
        ASSERT_EQ(syncobj_signal(dev_, &s, &p, 1), 0);
        assert_unsignaled(ew);
    }
    uint64_t p = 5;
    ASSERT_EQ(syncobj_signal(dev_, &s, &p, 1), 0);
    assert_signaled(ew);
    p = 6;
    ASSERT_EQ(syncobj_signal(dev_, &s, &p, 1), 0);
    assert_unsignaled(ew);
}
