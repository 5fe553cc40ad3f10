// Runs a command and, while it runs, takes screenshots with grim one after another, noting
// when each was asked for (CLOCK_MONOTONIC, the clock of syncway's presentation times):
//
//   capture_loop DIR MAX_SHOTS -- COMMAND [ARGS...]
//
// COMMAND's stdout goes to DIR/stdout, its stderr to DIR/stderr. Screenshots are
// DIR/shot-NNNN.ppm; DIR/shots.txt has one line per screenshot: its file name and the time
// grim was started, in nanoseconds. A screenshot shows a frame the compositor rendered after
// that time, so it cannot show an older frame than one presented before it (frame_check
// --shot-times checks that). Exits with COMMAND's status (128+N if it died of signal N).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

uint64_t monotonic_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// fork + exec with stdout/stderr redirected to files (or left alone when empty).
pid_t spawn(char** argv, const std::string& out, const std::string& err)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (!out.empty()) {
        int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(127);
    }
    if (!err.empty()) {
        int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0)
            _exit(127);
    }
    execvp(argv[0], argv);
    std::fprintf(stderr, "capture_loop: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
}

int status_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
        std::fprintf(stderr, "usage: capture_loop DIR MAX_SHOTS -- COMMAND [ARGS...]\n");
        return 2;
    }
    std::string dir = argv[1];
    long max_shots = std::strtol(argv[2], nullptr, 10);
    pid_t child = spawn(argv + 4, dir + "/stdout", dir + "/stderr");
    if (child < 0) {
        std::perror("capture_loop: fork");
        return 1;
    }
    FILE* index = std::fopen((dir + "/shots.txt").c_str(), "we");
    if (!index) {
        std::perror("capture_loop: shots.txt");
        return 1;
    }
    int status = 0;
    bool done = false;
    for (long i = 0; i < max_shots && !done; ++i) {
        if (waitpid(child, &status, WNOHANG) == child) {
            done = true;
            break;
        }
        char name[32];
        std::snprintf(name, sizeof(name), "shot-%04ld.ppm", i);
        std::string path = dir + "/" + name;
        char grim[] = "grim", type[] = "-t", ppm[] = "ppm";
        char* grim_argv[] = {grim, type, ppm, path.data(), nullptr};
        uint64_t asked = monotonic_ns();
        pid_t shot = spawn(grim_argv, "", dir + "/grim.txt");
        int shot_status = 0;
        if (shot < 0 || waitpid(shot, &shot_status, 0) != shot || status_of(shot_status) != 0) {
            unlink(path.c_str()); // the compositor is going away with the command: no more
            break;
        }
        std::fprintf(index, "%s %llu\n", name, static_cast<unsigned long long>(asked));
    }
    std::fclose(index);
    if (!done && waitpid(child, &status, 0) != child) {
        std::perror("capture_loop: waitpid");
        return 1;
    }
    return status_of(status);
}
