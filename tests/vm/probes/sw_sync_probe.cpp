// sw_sync (debugfs): fences on a software timeline stay unsignaled until the timeline's counter
// reaches their value, a blocked waiter wakes when it does, and merged fences follow suit.
#include "ioctl_retry.hpp"
#include "probe.hpp"
#include "kernel/sw_sync_timeline.hpp" // syncobj/'s, the one sw_sync wrapper

#include <syncway/unique_fd.hpp>

#include <fcntl.h>
#include <linux/sync_file.h>
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <future>

namespace syncway::vm {

using syncobj::SwSyncTimeline;

namespace {

// The sync_file's status by both of its interfaces, which must agree: 1 signaled, 0 active.
Result<int> status(int fence)
{
    sync_file_info info{};
    if (ioctl_retry(fence, SYNC_IOC_FILE_INFO, &info) != 0)
        return sys_error("SYNC_IOC_FILE_INFO");
    pollfd p{fence, POLLIN, 0};
    int ready = ::poll(&p, 1, 0);
    if (ready < 0)
        return sys_error("poll on a sync_file");
    if ((ready == 1) != (info.status == 1))
        return wrong("sync_file status " + std::to_string(info.status) + " but poll says " +
                     (ready ? "readable" : "not readable"));
    return info.status;
}

Status expect_status(int fence, int want, const char* which, uint32_t counter)
{
    auto s = status(fence);
    if (!s)
        return s.error();
    if (*s != want)
        return wrong(std::string(which) + " is " + (*s == 1 ? "signaled" : "unsignaled") + " with the counter at " +
                     std::to_string(counter) + ", expected " + (want == 1 ? "signaled" : "unsignaled"));
    return Ok{};
}

} // namespace

Status probe_sw_sync()
{
    auto timeline = SwSyncTimeline::open();
    if (!timeline)
        return timeline.error();
    auto f1 = timeline->create_fence(1, "syncway-vm");
    auto f3 = timeline->create_fence(3, "syncway-vm");
    if (!f1)
        return f1.error();
    if (!f3)
        return f3.error();
    sync_merge_data merge{};
    std::snprintf(merge.name, sizeof merge.name, "probe-merged");
    merge.fd2 = f3->get();
    if (ioctl_retry(f1->get(), SYNC_IOC_MERGE, &merge) != 0)
        return sys_error("SYNC_IOC_MERGE");
    UniqueFd merged(merge.fence);

    for (auto s : {expect_status(f1->get(), 0, "fence 1", 0), expect_status(f3->get(), 0, "fence 3", 0),
                   expect_status(merged.get(), 0, "merged fence", 0)})
        if (!s)
            return s;

    // A waiter blocks in poll() on fence 3 while the counter climbs to 1 and 2, and must wake
    // (well within its 10 s limit) once it reaches 3.
    int fd3 = f3->get();
    auto waiter = std::async(std::launch::async, [fd3] {
        pollfd p{fd3, POLLIN, 0};
        auto start = std::chrono::steady_clock::now();
        int r = ::poll(&p, 1, 10000);
        return std::pair{r, std::chrono::steady_clock::now() - start};
    });
    if (auto s = timeline->advance(1); !s)
        return s;
    for (auto s : {expect_status(f1->get(), 1, "fence 1", 1), expect_status(f3->get(), 0, "fence 3", 1),
                   expect_status(merged.get(), 0, "merged fence", 1)})
        if (!s)
            return s;
    if (auto s = timeline->advance(1); !s)
        return s;
    if (auto s = expect_status(f3->get(), 0, "fence 3", 2); !s)
        return s;
    if (waiter.wait_for(std::chrono::milliseconds(200)) == std::future_status::ready)
        return wrong("a poll() on fence 3 returned with the counter at 2");
    if (auto s = timeline->advance(1); !s)
        return s;
    auto [ready, waited] = waiter.get();
    if (ready != 1)
        return wrong("a poll() blocked on fence 3 did not wake when the counter reached 3 (poll returned " +
                     std::to_string(ready) + ")");
    for (auto s : {expect_status(f3->get(), 1, "fence 3", 3), expect_status(merged.get(), 1, "merged fence", 3)})
        if (!s)
            return s;
    std::printf("sw_sync: fences at 1 and 3 (and their merge) unsignaled until the counter passed them; "
                "a blocked waiter woke after %.0f ms\n",
                std::chrono::duration<double, std::milli>(waited).count());
    return Ok{};
}

} // namespace syncway::vm
