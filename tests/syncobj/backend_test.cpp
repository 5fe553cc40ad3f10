// Backend selection at open, on a machine without /dev/dri or /dev/syncobj: kernel backends are
// detected as absent, cleanly, and forcing one is a clear error; and syncobjd as a program.
#include "test_support.hpp"

#include "kernel/drm_syncobj_device.hpp"
#include "kernel/syncobj_dev_device.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

using namespace syncobj_test;

namespace {

bool have_drm_render_node()
{
    struct stat st {};
    return stat("/dev/dri", &st) == 0;
}

class EnvGuard {
public:
    explicit EnvGuard(const char* name) : name_(name)
    {
        const char* v = getenv(name);
        had_ = v != nullptr;
        if (had_)
            value_ = v;
    }
    ~EnvGuard()
    {
        if (had_)
            setenv(name_, value_.c_str(), 1);
        else
            unsetenv(name_);
    }

private:
    const char* name_;
    bool had_ = false;
    std::string value_;
};

std::string run_and_capture(const std::string& cmd)
{
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[512];
    while (p && fgets(buf, sizeof buf, p))
        out += buf;
    if (p)
        pclose(p);
    return out;
}

} // namespace

TEST(SyncobjBackend, DrmDetectedAbsentCleanly)
{
    if (have_drm_render_node())
        GTEST_SKIP() << "/dev/dri exists: the VM tier tests the DRM backend";
    auto dev = syncway::syncobj::DrmSyncobjDevice::open_first(syncway::syncobj::DrmSyncobjDevice::Need::TimelinesAndEventfd);
    ASSERT_FALSE(dev.ok());
    EXPECT_EQ(dev.error().code, ENODEV);
    EXPECT_NE(dev.error().message.find("no DRM render node"), std::string::npos) << dev.error().message;

    int fds_before = count_open_fds();
    syncobj_device* d = nullptr;
    EXPECT_EQ(syncobj_open(SYNCOBJ_BACKEND_DRM, &d), -ENODEV);
    EXPECT_EQ(d, nullptr);
    EXPECT_NE(std::string(syncobj_last_error()).find("backend drm"), std::string::npos) << syncobj_last_error();
    EXPECT_EQ(count_open_fds(), fds_before);
}

TEST(SyncobjBackend, DrmProbeRejectsANonDrmNode)
{
    // The probe on something that is not a DRM device fails with a reason, not a crash.
    auto dev = syncway::syncobj::DrmSyncobjDevice::open("/dev/null", syncway::syncobj::DrmSyncobjDevice::Need::Timelines);
    ASSERT_FALSE(dev.ok());
    EXPECT_EQ(dev.error().code, ENODEV);
    EXPECT_NE(dev.error().message.find("DRM_CAP_SYNCOBJ_TIMELINE"), std::string::npos) << dev.error().message;
}

TEST(SyncobjBackend, SyncobjDeviceDetectedAbsentCleanly)
{
    struct stat st {};
    if (stat("/dev/syncobj", &st) == 0)
        GTEST_SKIP() << "/dev/syncobj exists";
    syncobj_device* d = nullptr;
    EXPECT_EQ(syncobj_open(SYNCOBJ_BACKEND_SYNCOBJ_DEV, &d), -ENODEV);
    EXPECT_NE(std::string(syncobj_last_error()).find("/dev/syncobj: no such device"), std::string::npos)
        << syncobj_last_error();
}

// The /dev/syncobj probe must refuse anything that is not the RFC device, and never close one of
// the caller's fds on the way (a device that "succeeds" at CREATE can leave any number in the fd
// field; the probe must not take ownership of it before it is known to be a new syncobj).
void expect_syncobj_dev_refused(const std::string& path, const std::string& why)
{
    EnvGuard g("SYNCWAY_SYNCOBJ_DEV");
    setenv("SYNCWAY_SYNCOBJ_DEV", path.c_str(), 1);
    int fds_before = count_open_fds();
    struct stat std_before[3];
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(fstat(i, &std_before[i]), 0) << "fd " << i << " must be open for this test";
    syncobj_device* d = nullptr;
    EXPECT_EQ(syncobj_open(SYNCOBJ_BACKEND_SYNCOBJ_DEV, &d), -ENODEV) << path;
    std::string e = syncobj_last_error();
    EXPECT_NE(e.find(path), std::string::npos) << e;
    EXPECT_NE(e.find(why), std::string::npos) << e;
    for (int i = 0; i < 3; i++) {
        struct stat st {};
        ASSERT_EQ(fstat(i, &st), 0) << "the probe of " << path << " closed fd " << i;
        EXPECT_TRUE(st.st_ino == std_before[i].st_ino && st.st_dev == std_before[i].st_dev) << "fd " << i;
    }
    EXPECT_EQ(count_open_fds(), fds_before) << "the probe of " << path << " leaked or closed an fd";
}

TEST(SyncobjBackend, SyncobjDevProbeRefusesOtherFiles)
{
    expect_syncobj_dev_refused("/dev/null", "does not speak the /dev/syncobj RFC uapi");
    expect_syncobj_dev_refused("/nonexistent/syncobj", "no such device");
    char path[] = "/tmp/syncobj-dev-test-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    expect_syncobj_dev_refused(path, "does not speak the /dev/syncobj RFC uapi");
    unlink(path);
}

TEST(SyncobjBackend, SyncobjDevProbeRefusesADrmNode)
{
    if (!have_drm_render_node())
        GTEST_SKIP() << "no /dev/dri here: the VM tier runs this";
    std::string node;
    for (int minor = 128; minor < 192 && node.empty(); minor++) {
        std::string p = "/dev/dri/renderD" + std::to_string(minor);
        if (access(p.c_str(), R_OK | W_OK) == 0)
            node = p;
    }
    if (node.empty())
        GTEST_SKIP() << "no render node we may open";
    // Linux 6.1's DRM answers the foreign ioctl type with ENOTTY.
    expect_syncobj_dev_refused(node, "/dev/syncobj RFC uapi");
}

TEST(SyncobjBackend, EnvVariableForcesABackend)
{
    EnvGuard g1("SYNCWAY_SYNCOBJ_BACKEND"), g2("SYNCWAY_SYNCOBJ_SOCKET");
    syncobj_device* d = nullptr;
    setenv("SYNCWAY_SYNCOBJ_BACKEND", "bogus", 1);
    EXPECT_EQ(syncobj_open(SYNCOBJ_BACKEND_AUTO, &d), -EINVAL);
    EXPECT_NE(std::string(syncobj_last_error()).find("bogus"), std::string::npos);
    if (!have_drm_render_node()) {
        setenv("SYNCWAY_SYNCOBJ_BACKEND", "drm", 1);
        EXPECT_EQ(syncobj_open(SYNCOBJ_BACKEND_AUTO, &d), -ENODEV);
    }
    Daemon daemon; // sets SYNCWAY_SYNCOBJ_BACKEND=service and the socket
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_AUTO, &d), 0) << syncobj_last_error();
    EXPECT_EQ(syncobj_backend_of(d), SYNCOBJ_BACKEND_SERVICE);
    syncobj_close(d);
    setenv("SYNCWAY_SYNCOBJ_BACKEND", "auto", 1);
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_AUTO, &d), 0) << syncobj_last_error();
    if (!have_drm_render_node()) {
        EXPECT_EQ(syncobj_backend_of(d), SYNCOBJ_BACKEND_SERVICE) << "auto falls through to the service";
    }
    syncobj_close(d);
}

TEST(SyncobjBackend, AutoWithNothingAvailableExplainsEachBackend)
{
    if (have_drm_render_node())
        GTEST_SKIP();
    EnvGuard g1("SYNCWAY_SYNCOBJ_BACKEND"), g2("SYNCWAY_SYNCOBJ_SOCKET");
    unsetenv("SYNCWAY_SYNCOBJ_BACKEND");
    setenv("SYNCWAY_SYNCOBJ_SOCKET", "/nonexistent/syncobjd.sock", 1);
    syncobj_device* d = nullptr;
    EXPECT_EQ(syncobj_open(SYNCOBJ_BACKEND_AUTO, &d), -ENODEV);
    std::string e = syncobj_last_error();
    EXPECT_NE(e.find("syncobj-dev:"), std::string::npos) << e;
    EXPECT_NE(e.find("drm:"), std::string::npos) << e;
    EXPECT_NE(e.find("service:"), std::string::npos) << e;
    EXPECT_NE(e.find("/nonexistent/syncobjd.sock"), std::string::npos) << e;
}

TEST(Syncobjd, HelpDocumentsSocketEnvAndLimits)
{
    std::string help = run_and_capture(std::string(getenv("SYNCOBJD")) + " --help");
    for (const char* word : {"SYNCWAY_SYNCOBJ_SOCKET", "XDG_RUNTIME_DIR", "--socket", "--max-connections",
                             "--max-handles", "--max-waits", "LISTEN_FDS", "SO_PEERCRED", "ENOSPC",
                             "--max-connections-per-client", "--max-fds-per-connection", "--max-pending-points", "--max-pending-points-per-connection",
                             "--max-fds N", "EMFILE", "ENFILE", "RLIMIT_NOFILE"})
        EXPECT_NE(help.find(word), std::string::npos) << word;
    std::string bad = run_and_capture(std::string(getenv("SYNCOBJD")) + " --max-waits zero 2>&1");
    EXPECT_NE(bad.find("--max-waits \"zero\" is not a number"), std::string::npos) << bad;
    bad = run_and_capture(std::string(getenv("SYNCOBJD")) + " --max-fds-per-connection -1 2>&1");
    EXPECT_NE(bad.find("--max-fds-per-connection \"-1\" is not a number"), std::string::npos) << bad;
}

TEST(Syncobjd, LimitOptionsTakeEffect)
{
    Daemon d("--max-fds-per-connection", "2");
    syncobj_device* dev = nullptr;
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &dev), 0) << syncobj_last_error();
    int a, b, c;
    EXPECT_EQ(syncobj_create(dev, 0, &a), 0);
    EXPECT_EQ(syncobj_create(dev, 0, &b), 0);
    EXPECT_EQ(syncobj_create(dev, 0, &c), -EMFILE);
    EXPECT_NE(std::string(syncobj_last_error()).find("max_fds_per_connection = 2"), std::string::npos)
        << syncobj_last_error();
    syncobj_close(dev);
    close(a);
    close(b);
    Daemon one("--max-connections-per-client", "1");
    syncobj_device *first = nullptr, *second = nullptr;
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &first), 0) << syncobj_last_error();
    ASSERT_EQ(syncobj_create(first, 0, &a), 0) << syncobj_last_error();
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &second), 0) << syncobj_last_error();
    EXPECT_EQ(syncobj_create(second, 0, &b), -EPIPE) << "the second connection of this process was refused";
    close(a);
    syncobj_close(first);
    syncobj_close(second);
}

TEST(Syncobjd, SocketActivationAndCleanShutdown)
{
    // systemd's protocol: a bound, listening socket as fd 3, LISTEN_PID/LISTEN_FDS set.
    std::string dir = make_temp_dir();
    std::string path = dir + "/activated.sock";
    int ls = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(ls, 8), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ls, 3);
        std::string me = std::to_string(getpid());
        setenv("LISTEN_PID", me.c_str(), 1);
        setenv("LISTEN_FDS", "1", 1);
        const char* bin = getenv("SYNCOBJD");
        execl(bin, bin, nullptr);
        _exit(127);
    }
    close(ls);
    EnvGuard g1("SYNCWAY_SYNCOBJ_BACKEND"), g2("SYNCWAY_SYNCOBJ_SOCKET");
    setenv("SYNCWAY_SYNCOBJ_SOCKET", path.c_str(), 1);
    syncobj_device* d = nullptr;
    ASSERT_EQ(syncobj_open(SYNCOBJ_BACKEND_SERVICE, &d), 0) << syncobj_last_error();
    int tl;
    EXPECT_EQ(syncobj_create(d, SYNCOBJ_CREATE_SIGNALED, &tl), 0) << syncobj_last_error();
    uint64_t p = 0;
    EXPECT_EQ(syncobj_wait(d, &tl, &p, 1, 0, 0, nullptr), 0);
    close(tl);
    syncobj_close(d);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct stat sb {};
    EXPECT_EQ(stat(path.c_str(), &sb), 0) << "an activated socket belongs to systemd: not removed";
    unlink(path.c_str());
    rmdir(dir.c_str());
}

TEST(Syncobjd, RemovesItsOwnSocketOnSigterm)
{
    std::string path;
    {
        Daemon d;
        path = d.path();
        struct stat sb {};
        ASSERT_EQ(stat(path.c_str(), &sb), 0);
        int st = d.stop();
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
        EXPECT_NE(stat(path.c_str(), &sb), 0) << "socket left behind";
    }
}

TEST(Syncobjd, RefusesASecondInstanceOnTheSamePath)
{
    Daemon d;
    std::string out = run_and_capture(std::string(getenv("SYNCOBJD")) + " --socket " + d.path() + " 2>&1");
    EXPECT_NE(out.find("already listening"), std::string::npos) << out;
    EXPECT_TRUE(d.alive());
}
