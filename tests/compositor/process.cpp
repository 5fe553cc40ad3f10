#include "process.hpp"

#include <syncway/cstring_array.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace syncway::test {

Process::Process(const std::vector<std::string>& argv, const EnvChanges& env)
{
    char tmpl[] = "/tmp/syncway-test-log-XXXXXX";
    int log_fd = ::mkstemp(tmpl);
    if (log_fd < 0)
        throw std::runtime_error("mkstemp failed");
    log_path_ = tmpl;

    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        std::string name = entry.substr(0, entry.find('='));
        if (!env.contains(name))
            env_storage.push_back(entry);
    }
    for (auto& [name, value] : env)
        if (value)
            env_storage.push_back(name + "=" + *value);
    CStringArray envp(std::move(env_storage));
    CStringArray args(argv);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    // Own process group: a test can signal a whole tree, and a stuck one is killed completely.
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    int rc = ::posix_spawnp(&pid_, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(log_fd);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
}

Process::~Process()
{
    if (pid_ > 0 && !status_) {
        ::kill(-pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    // Leftovers of the group (e.g. a command syncway started) die with it.
    if (pid_ > 0)
        ::kill(-pid_, SIGKILL);
    ::unlink(log_path_.c_str());
}

bool Process::running()
{
    if (pid_ <= 0 || status_)
        return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = status;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
    }
    return true;
}

bool Process::wait(std::chrono::milliseconds timeout)
{
    return wait_until([&] { return !running(); }, timeout);
}

void Process::signal(int sig)
{
    if (pid_ > 0 && !status_)
        ::kill(pid_, sig);
}

std::string Process::output() const
{
    std::ifstream in(log_path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

RunResult run(const std::vector<std::string>& argv, const EnvChanges& env, std::chrono::milliseconds timeout)
{
    Process p(argv, env);
    RunResult result;
    result.exited = p.wait(timeout);
    result.exit_code = p.exit_code();
    result.output = p.output();
    return result;
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (predicate())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(50ms);
    }
}

TempDir::TempDir(const std::string& prefix)
{
    std::string tmpl = prefix + "XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string syncway_bin()
{
    const char* bin = std::getenv("SYNCWAY_BIN");
    if (!bin)
        throw std::runtime_error("SYNCWAY_BIN is not set (run through meson test)");
    return bin;
}

} // namespace syncway::test
