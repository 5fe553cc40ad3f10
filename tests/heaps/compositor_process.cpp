#include "compositor_process.hpp"

#include <syncway/testing/process_cpu.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace syncway::heaps::test {

CompositorProcess::CompositorProcess(const std::string& binary, const std::string& output, const std::string& backend,
                                     const std::vector<std::string>& extra_args)
{
    char tmpl[] = "/tmp/syncway-heaps-runtime-XXXXXX";
    if (!mkdtemp(tmpl)) {
        error_ = "mkdtemp failed";
        return;
    }
    runtime_dir_ = tmpl;
    log_path_ = runtime_dir_ + "/syncway.log";

    std::vector<std::string> args = {binary,   "--backend", backend, "--renderer", "pixman",
                                     "--output", output,      "--socket", socket_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
        error_ = "fork failed";
        return;
    }
    if (pid_ == 0) {
        // A test killed by a meson timeout must not leave its compositor running.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setenv("XDG_RUNTIME_DIR", runtime_dir_.c_str(), 1);
        unsetenv("WAYLAND_DISPLAY");
        unsetenv("DISPLAY");
        if (backend == "drm") {
            setenv("LIBSEAT_BACKEND", "builtin", 1);
            setenv("WLR_LIBINPUT_NO_DEVICES", "1", 1);
        }
        int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    std::string socket_path = runtime_dir_ + "/" + socket_;
    for (int i = 0; i < 3000; ++i) {
        struct stat st {};
        if (stat(socket_path.c_str(), &st) == 0)
            return;
        if (!alive())
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error_ = "syncway did not create " + socket_path + "; its log:\n" + log();
}

std::string CompositorProcess::log() const
{
    std::ifstream file(log_path_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

CompositorProcess::~CompositorProcess()
{
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    if (!runtime_dir_.empty()) {
        unlink(log_path_.c_str());
        // the compositor removes its socket and lock; anything else left is a bug to see
        rmdir(runtime_dir_.c_str());
    }
}

bool CompositorProcess::alive()
{
    if (pid_ <= 0)
        return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        wait_status_ = status;
        pid_ = -1;
        return false;
    }
    return true;
}

void CompositorProcess::export_environment() const
{
    setenv("XDG_RUNTIME_DIR", runtime_dir_.c_str(), 1);
    setenv("WAYLAND_DISPLAY", socket_.c_str(), 1);
}

double CompositorProcess::cpu_seconds() const
{
    return syncway::testing::process_cpu_seconds(pid_).value_or(-1);
}

} // namespace syncway::heaps::test
