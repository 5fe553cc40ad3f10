#include "process.hpp"

#include <syncway/cstring_array.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

    // fork + exec rather than posix_spawn, for PR_SET_PDEATHSIG: a test binary killed by a
    // meson timeout must not leave its compositor running. exec's errno comes back through a
    // close-on-exec pipe, so a missing binary is still reported here, synchronously.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        ::close(log_fd);
        throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
    }
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
        // Only async-signal-safe calls from here on.
        ::close(report[0]);
        // Own process group: a test can signal a whole tree, and a stuck one is killed completely.
        ::setpgid(0, 0);
        sigset_t empty;
        sigemptyset(&empty);
        ::sigprocmask(SIG_SETMASK, &empty, nullptr);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)  // the test died before prctl took effect
            ::_exit(127);
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0)
            ::_exit(127);
        ::execvpe(argv[0].c_str(), args.data(), envp.data());
        int e = errno;
        ssize_t w = ::write(report[1], &e, sizeof e);
        (void)w;
        ::_exit(127);
    }
    int fork_errno = errno;
    ::close(report[1]);
    ::close(log_fd);
    if (pid_ < 0) {
        ::close(report[0]);
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": fork: " + std::strerror(fork_errno));
    }
    int exec_errno = 0;
    ssize_t n;
    while ((n = ::read(report[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
    }
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof exec_errno)) {
        while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(exec_errno));
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
