// Test-side child processes: started with a modified environment, output captured to a file
// (never a pipe that could fill up), waited for with a bound, killed and reaped on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace syncway::test {

using namespace std::chrono_literals;

// Environment changes: a value sets the variable, std::nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

class Process {
public:
    Process(const std::vector<std::string>& argv, const EnvChanges& env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    bool started() const { return pid_ > 0; }
    // True once exited (within timeout).
    bool wait(std::chrono::milliseconds timeout);
    bool running();
    // Exit status, or 128+N when killed by signal N; only valid after wait() returned true.
    int exit_code() const { return exit_code_; }
    void signal(int sig);
    // stdout and stderr so far.
    std::string output() const;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    int exit_code_ = -1;
    std::string log_path_;
};

struct RunResult {
    bool exited = false;  // false: timed out (and was killed)
    int exit_code = -1;
    std::string output;
};

RunResult run(const std::vector<std::string>& argv, const EnvChanges& env = {},
              std::chrono::milliseconds timeout = 20s);

// Polls predicate every 50 ms until it holds or timeout passes; returns its last value.
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

// A fresh private directory (0700) removed recursively on destruction.
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "/tmp/syncway-test-");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// The syncway binary under test (SYNCWAY_BIN, set by meson).
std::string syncway_bin();

} // namespace syncway::test
