// An embedded Service in the test process, with forked client processes: the parent pumps the
// service while its children use the real client library over the real socket.
#pragma once

#include "service/fd_passing.hpp"
#include "service/service.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

namespace syncobj_test {

using syncway::syncobj::recv_one_fd;
using syncway::syncobj::send_one_fd;
inline bool send_fd(int sock, int fd) { return send_one_fd(sock, fd); }
inline int recv_fd(int sock) { return recv_one_fd(sock); }

class EmbeddedService {
public:
    explicit EmbeddedService(syncway::syncobj::ServiceLimits limits = {})
    {
        dir_ = make_temp_dir();
        path_ = dir_ + "/s.sock";
        syncway::syncobj::Service::Options opt;
        opt.limits = limits;
        opt.log = [this](const std::string& line) { log.push_back(line); };
        auto s = syncway::syncobj::Service::listen_at(path_, std::move(opt));
        if (!s)
            throw std::runtime_error(s.error().message);
        svc = std::move(s.value());
        setenv("SYNCWAY_SYNCOBJ_SOCKET", path_.c_str(), 1);
        setenv("SYNCWAY_SYNCOBJ_BACKEND", "service", 1);
    }
    ~EmbeddedService()
    {
        svc.reset();
        rmdir(dir_.c_str());
    }
    // Runs fn in a child process; its return value is the exit status.
    pid_t spawn(const std::function<int()>& fn)
    {
        pid_t pid = fork();
        if (pid == 0) {
            int rc = 1;
            try {
                rc = fn();
            } catch (...) {
            }
            _exit(rc);
        }
        children_.push_back(pid);
        return pid;
    }
    // Pumps the service until every child exited; returns their exit statuses in order.
    std::vector<int> run(int timeout_ms = 10000)
    {
        std::vector<int> status(children_.size(), -1);
        size_t left = children_.size();
        int64_t deadline = now_ns() + int64_t(timeout_ms) * 1000000;
        while (left && now_ns() < deadline) {
            svc->dispatch(2);
            for (size_t i = 0; i < children_.size(); i++) {
                if (status[i] != -1)
                    continue;
                int st;
                if (waitpid(children_[i], &st, WNOHANG) == children_[i]) {
                    status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    left--;
                }
            }
        }
        for (size_t i = 0; i < children_.size(); i++)
            if (status[i] == -1) {
                kill(children_[i], SIGKILL);
                waitpid(children_[i], nullptr, 0);
            }
        children_.clear();
        pump(20);
        return status;
    }
    void pump(int ms)
    {
        int64_t end = now_ns() + int64_t(ms) * 1000000;
        while (now_ns() < end)
            svc->dispatch(1);
    }
    const std::string& path() const { return path_; }

    std::unique_ptr<syncway::syncobj::Service> svc;
    std::vector<std::string> log;

private:
    std::string dir_, path_;
    std::vector<pid_t> children_;
};

// For children: exit codes that say which step failed.
#define CHILD_CHECK(cond, code)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return (code);                                                                         \
    } while (0)

} // namespace syncobj_test
