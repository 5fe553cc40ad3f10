// Helpers shared by the syncobj suite: a real syncobjd in a private directory, fd counting for
// leak checks, small eventfd helpers.
#pragma once

#include <syncobj/syncobj.h>

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

namespace syncobj_test {

inline int count_open_fds()
{
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; // the DIR's own fd
}

inline int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline std::string make_temp_dir()
{
    char tmpl[] = "/tmp/syncobj-test-XXXXXX";
    if (!mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

inline bool can_connect(const std::string& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

// A syncobjd process (the binary under test, $SYNCOBJD) on a socket in a private directory.
class Daemon {
public:
    explicit Daemon(const char* extra_arg = nullptr, const char* extra_val = nullptr)
    {
        dir_ = make_temp_dir();
        path_ = dir_ + "/syncobjd.sock";
        const char* bin = getenv("SYNCOBJD");
        if (!bin)
            throw std::runtime_error("$SYNCOBJD is not set (run through meson test)");
        pid_ = fork();
        if (pid_ == 0) {
            if (extra_arg)
                execl(bin, bin, "--socket", path_.c_str(), extra_arg, extra_val, nullptr);
            else
                execl(bin, bin, "--socket", path_.c_str(), nullptr);
            _exit(127);
        }
        // Up to 15 s: a sanitized syncobjd on a loaded 2-core CI host has taken over 1 s.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (!can_connect(path_)) {
            int st = 0;
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                cleanup();
                throw std::runtime_error(std::string(bin) + " exited during start-up (status " +
                                         std::to_string(st) + ")");
            }
            if (std::chrono::steady_clock::now() > deadline) {
                cleanup();
                throw std::runtime_error(std::string(bin) + " did not accept on " + path_ + " within 15 s");
            }
            usleep(2000);
        }
        setenv("SYNCWAY_SYNCOBJ_SOCKET", path_.c_str(), 1);
        setenv("SYNCWAY_SYNCOBJ_BACKEND", "service", 1);
    }
    ~Daemon() { cleanup(); }
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    const std::string& path() const { return path_; }
    pid_t pid() const { return pid_; }
    // SIGTERM, and wait for the exit; returns the wait status.
    int stop()
    {
        int st = -1;
        kill(pid_, SIGTERM);
        waitpid(pid_, &st, 0);
        pid_ = -1;
        return st;
    }
    bool alive() const { return kill(pid_, 0) == 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

private:
    void cleanup()
    {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }

    std::string dir_, path_;
    pid_t pid_ = -1;
};

inline bool readable(int fd, int timeout_ms)
{
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

inline int new_eventfd() { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

} // namespace syncobj_test
