// Shared by the syncobj benchmarks: a service in its own process (the same Service class
// syncobjd runs), timing helpers, percentiles.
#pragma once

#include "service/service.hpp"

#include <syncway/testing/process_cpu.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace syncobj_bench {

inline int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline double percentile(std::vector<int64_t> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    return static_cast<double>(v[i]) / 1000.0; // µs
}

// A service process on a private socket; clients find it through $SYNCWAY_SYNCOBJ_SOCKET.
class ServiceProcess {
public:
    explicit ServiceProcess(syncway::syncobj::Service::Options options = {})
    {
        char tmpl[] = "/tmp/syncobj-bench-XXXXXX";
        dir_ = mkdtemp(tmpl);
        path_ = dir_ + "/bench.sock";
        int ready[2];
        if (pipe(ready) != 0)
            abort();
        pid_ = fork();
        if (pid_ == 0) {
            close(ready[0]);
            auto svc = syncway::syncobj::Service::listen_at(path_, std::move(options));
            if (!svc) {
                fprintf(stderr, "bench: %s\n", svc.error().message.c_str());
                _exit(1);
            }
            if (write(ready[1], "r", 1) != 1)
                _exit(1);
            for (;;)
                (*svc)->dispatch(-1);
        }
        close(ready[1]);
        char c;
        if (read(ready[0], &c, 1) != 1) {
            fprintf(stderr, "bench: the service process failed to start\n");
            exit(1);
        }
        close(ready[0]);
        setenv("SYNCWAY_SYNCOBJ_SOCKET", path_.c_str(), 1);
        setenv("SYNCWAY_SYNCOBJ_BACKEND", "service", 1);
    }
    ~ServiceProcess()
    {
        kill(pid_, SIGTERM); // not SIGKILL: lets valgrind and gcov write their data
        waitpid(pid_, nullptr, 0);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }

    // CPU time of the service process so far (all threads, ns; 0 once it is gone).
    int64_t cpu_ns() const
    {
        return static_cast<int64_t>(syncway::testing::process_cpu_seconds(pid_).value_or(0) * 1e9);
    }

private:
    std::string dir_, path_;
    pid_t pid_ = -1;
};

} // namespace syncobj_bench
