// CPU time another process has used so far (all its threads, user + system), for benchmarks
// and tests that compare what a compositor or service spends per frame or per operation.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <optional>

namespace syncway::testing {

// Nanosecond-precise through the process's CPU-time clock (Linux lets any process read
// another's; /proc/PID/stat only counts 10 ms ticks and /proc/PID/schedstat only the main
// thread). Empty when the process is gone or not ours to see.
inline std::optional<double> process_cpu_seconds(pid_t pid)
{
    clockid_t clock;
    if (clock_getcpuclockid(pid, &clock) != 0)
        return std::nullopt;
    timespec ts{};
    if (clock_gettime(clock, &ts) != 0)
        return std::nullopt;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

} // namespace syncway::testing
