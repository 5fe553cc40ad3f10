// Opt-in timestamps of held commits (B3): with SYNCWAY_SYNCOBJ_TRACE=<file>, each commit that
// waited for its acquire point appends one line when it is applied:
//   acquire <point> seen <ns> unlock <ns> applied <ns> released <ns>
// CLOCK_MONOTONIC ns: `seen` when the event loop handed us the event that resolved the point
// (the hosted service's socket, or the point's eventfd for kernel timelines), `unlock` just
// before wlr_surface_unlock_cached, `applied` when it returned (the state is current, the
// output damaged), `released` once the release points that the commit made due (those of the
// buffer it replaced) are signaled. A benchmark subtracts its own signal time from these to
// separate the scheduler's wake-up from the compositor's work.
// One write(2) per line after the timestamps are taken, so tracing delays only what follows.
#pragma once

#include "../wlr.hpp"

#include <syncway/unique_fd.hpp>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace syncway {

class AcquireTrace {
public:
    static constexpr const char* kEnv = "SYNCWAY_SYNCOBJ_TRACE";

    // Null unless the environment asks for a trace (and the file opens).
    static std::unique_ptr<AcquireTrace> from_env()
    {
        const char* path = std::getenv(kEnv);
        if (!path || !*path)
            return nullptr;
        UniqueFd fd(open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!fd) {
            wlr_log(WLR_ERROR, "%s=%s: cannot open the trace file (%s), not tracing", kEnv, path, std::strerror(errno));
            return nullptr;
        }
        wlr_log(WLR_INFO, "tracing held commits to %s (%s)", path, kEnv);
        return std::unique_ptr<AcquireTrace>(new AcquireTrace(std::move(fd)));
    }

    static int64_t now_ns()
    {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
    }

    void applied(uint64_t point, int64_t seen_ns, int64_t unlock_ns, int64_t applied_ns, int64_t released_ns)
    {
        char line[160];
        int n = std::snprintf(line, sizeof line, "acquire %" PRIu64 " seen %" PRId64 " unlock %" PRId64
                                                 " applied %" PRId64 " released %" PRId64 "\n",
                              point, seen_ns, unlock_ns, applied_ns, released_ns);
        if (n > 0 && write(fd_.get(), line, size_t(n)) < 0)
            fd_.reset(); // a full disk ends the trace, not the compositor
    }

private:
    explicit AcquireTrace(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace syncway
