#include "child_process.hpp"

#include <syncobj/timeline_host.hpp>
#include <syncway/cstring_array.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

extern char** environ;

namespace syncway {

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, const ChildEnvironment& env)
{
    std::vector<std::string> set = env.extra;
    set.push_back("WAYLAND_DISPLAY=" + env.wayland_display);
    if (!env.syncobj_socket.empty())
        set.push_back(std::string(syncobj::kSocketEnv) + "=" + env.syncobj_socket);
    std::vector<std::string> removed = {"WAYLAND_SOCKET=", std::string(syncobj::kSocketEnv) + "="};
    for (const auto& entry : set)
        removed.push_back(entry.substr(0, entry.find('=') + 1));
    auto dropped = [&](const char* entry) {
        for (const auto& prefix : removed)
            if (std::strncmp(entry, prefix.c_str(), prefix.size()) == 0)
                return true;
        return false;
    };
    // Ours, passed on: the environment is how a parent configures its children.
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e)
        if (!dropped(*e))
            env_storage.emplace_back(*e);
    env_storage.insert(env_storage.end(), set.begin(), set.end());
    CStringArray envp(std::move(env_storage));
    CStringArray args(argv);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    ChildProcess child;
    int rc = ::posix_spawnp(&child.pid_, argv[0].c_str(), nullptr, &attr, args.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        child.pid_ = -1;
        return make_error(rc, "cannot run '" + argv[0] + "': " + std::strerror(rc));
    }
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt))
{
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept
{
    if (this != &other) {
        terminate();
        pid_ = std::exchange(other.pid_, -1);
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

ChildProcess::~ChildProcess() { terminate(); }

bool ChildProcess::poll()
{
    if (pid_ < 0 || status_)
        return status_.has_value();
    int status = 0;
    pid_t r;
    do
        r = ::waitpid(pid_, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == pid_)
        status_ = status;
    return status_.has_value();
}

int ChildProcess::exit_code() const
{
    if (!status_)
        return 1;
    if (WIFEXITED(*status_))
        return WEXITSTATUS(*status_);
    if (WIFSIGNALED(*status_))
        return 128 + WTERMSIG(*status_);
    return 1;
}

void ChildProcess::terminate(int timeout_ms)
{
    if (pid_ < 0 || poll())
        return;
    ::kill(pid_, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (poll())
            return;
        timespec ts{0, 10 * 1000 * 1000};
        ::nanosleep(&ts, nullptr);
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
}

} // namespace syncway
