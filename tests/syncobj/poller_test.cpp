// The service's epoll set: within one batch of ready events, sources that change state (kernel
// fences, signalers, timelines) are handled before client connections, whose requests read
// that state; a source destroyed by an earlier one in the batch is skipped.
#include "service/poller.hpp"

#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <string>
#include <vector>

using syncway::UniqueFd;
using syncway::syncobj::Poller;

namespace {

struct Recorded final : Poller::Source {
    std::string name;
    bool requests;
    std::vector<std::string>* log;
    Recorded* destroys = nullptr; // a source this one removes from the set when it runs
    Poller* poller = nullptr;
    int destroys_fd = -1;
    uint64_t destroys_id = 0;
    Recorded(std::string n, bool r, std::vector<std::string>* l) : name(std::move(n)), requests(r), log(l) {}
    void ready(uint32_t) override
    {
        log->push_back(name);
        if (destroys)
            poller->remove(destroys_fd, destroys_id);
    }
    bool reads_state() const noexcept override { return requests; }
};

UniqueFd ready_eventfd()
{
    UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    return fd;
}

void make_ready(const UniqueFd& fd)
{
    uint64_t one = 1;
    ASSERT_EQ(write(fd.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
}

} // namespace

TEST(Poller, StateChangesRunBeforeRequestsOfTheSameBatch)
{
    Poller poller;
    ASSERT_TRUE(poller.valid());
    std::vector<std::string> log;
    Recorded connection("connection", true, &log), fence("fence", false, &log), signaler("signaler", false, &log);
    UniqueFd c = ready_eventfd(), f = ready_eventfd(), s = ready_eventfd();
    uint64_t id = 0;
    ASSERT_TRUE(poller.add(c.get(), EPOLLIN, &connection, id));
    ASSERT_TRUE(poller.add(f.get(), EPOLLIN, &fence, id));
    ASSERT_TRUE(poller.add(s.get(), EPOLLIN, &signaler, id));
    // The request's fd becomes ready first: epoll reports it first.
    make_ready(c);
    make_ready(f);
    make_ready(s);
    EXPECT_EQ(poller.run_once(0), 3);
    EXPECT_EQ(log, (std::vector<std::string>{"fence", "signaler", "connection"}));
}

TEST(Poller, SourceRemovedEarlierInTheBatchIsSkipped)
{
    Poller poller;
    std::vector<std::string> log;
    Recorded connection("connection", true, &log), fence("fence", false, &log);
    UniqueFd c = ready_eventfd(), f = ready_eventfd();
    uint64_t connection_id = 0, fence_id = 0;
    ASSERT_TRUE(poller.add(c.get(), EPOLLIN, &connection, connection_id));
    ASSERT_TRUE(poller.add(f.get(), EPOLLIN, &fence, fence_id));
    fence.destroys = &connection;
    fence.poller = &poller;
    fence.destroys_fd = c.get();
    fence.destroys_id = connection_id;
    make_ready(c);
    make_ready(f);
    EXPECT_EQ(poller.run_once(0), 2);
    EXPECT_EQ(log, (std::vector<std::string>{"fence"}));
}
