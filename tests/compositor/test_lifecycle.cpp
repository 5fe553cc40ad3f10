// Command mode, signals, bad input, and where the socket lives.
#include "compositor_fixture.hpp"

#include <glob.h>
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace syncway::test;

namespace {

EnvChanges headless_env(const std::string& runtime_dir)
{
    return {{"XDG_RUNTIME_DIR", runtime_dir}, {"WAYLAND_DISPLAY", std::nullopt}, {"DISPLAY", std::nullopt}};
}

RunResult run_syncway(const std::vector<std::string>& args, const EnvChanges& env)
{
    std::vector<std::string> argv = {syncway_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, env, startup_timeout);
}

bool have_drm_card()
{
    glob_t g{};
    bool found = ::glob("/dev/dri/card[0-9]*", 0, nullptr, &g) == 0;
    ::globfree(&g);
    return found;
}

} // namespace

TEST(CommandMode, ExitStatusPropagates)
{
    TempDir dir;
    auto env = headless_env(dir.path());
    RunResult ok = run_syncway({"--backend", "headless", "--", "sh", "-c", "exit 0"}, env);
    ASSERT_TRUE(ok.exited) << ok.output;
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    RunResult r = run_syncway({"--backend", "headless", "--", "sh", "-c", "exit 42"}, env);
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 42) << r.output;
}

TEST(CommandMode, DeathBySignalIs128PlusN)
{
    TempDir dir;
    RunResult r = run_syncway({"--backend", "headless", "--", "sh", "-c", "kill -KILL $$"}, headless_env(dir.path()));
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.output;
}

TEST(CommandMode, CommandSeesOurSocket)
{
    TempDir dir;
    RunResult r = run_syncway({"--backend", "headless", "--socket", "cmd-sock", "--", "sh", "-c",
                               "test \"$WAYLAND_DISPLAY\" = cmd-sock && test -S \"$XDG_RUNTIME_DIR/cmd-sock\""},
                              headless_env(dir.path()));
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(CommandMode, MissingCommandIs127)
{
    TempDir dir;
    RunResult r = run_syncway({"--backend", "headless", "--", "/nonexistent/syncway-test-command"},
                              headless_env(dir.path()));
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 127) << r.output;
    EXPECT_NE(r.output.find("/nonexistent/syncway-test-command"), std::string::npos) << r.output;
}

TEST(Signals, SigtermShutsDownCleanly)
{
    Compositor compositor;
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    compositor.process().signal(SIGTERM);
    ASSERT_TRUE(compositor.process().wait(startup_timeout)) << compositor.process().output();
    EXPECT_EQ(compositor.process().exit_code(), 0) << compositor.process().output();
    EXPECT_FALSE(std::filesystem::exists(compositor.runtime_dir() + "/" + compositor.socket()))
        << "socket left behind";
}

TEST(Signals, SigintEndsTheCommandToo)
{
    Compositor compositor({}, {"sleep", "60"});
    ASSERT_TRUE(compositor.wait_ready()) << compositor.process().output();
    compositor.process().signal(SIGINT);
    ASSERT_TRUE(compositor.process().wait(startup_timeout)) << compositor.process().output();
    // The command got SIGTERM from us, and its status is ours.
    EXPECT_EQ(compositor.process().exit_code(), 128 + SIGTERM) << compositor.process().output();
}

TEST(BadInput, CommandLineErrorsExit2NamingTheInput)
{
    TempDir dir;
    auto env = headless_env(dir.path());
    struct Case {
        std::vector<std::string> args;
        std::string named;
    };
    for (const Case& c : std::vector<Case>{{{"--output", "12x"}, "'12x'"},
                                           {{"--output=1920x1080@0.0"}, "'1920x1080@0.0'"},
                                           {{"--backend", "vulkan"}, "'vulkan'"},
                                           {{"--renderer", "vulkan"}, "'vulkan'"},
                                           {{"--frobnicate"}, "'--frobnicate'"},
                                           {{"stray"}, "'stray'"},
                                           {{"--socket", "a/b"}, "'a/b'"},
                                           {{"--socket"}, "'--socket'"},
                                           {{"--"}, "'--'"}}) {
        RunResult r = run_syncway(c.args, env);
        ASSERT_TRUE(r.exited);
        EXPECT_EQ(r.exit_code, 2) << c.args[0] << ": " << r.output;
        EXPECT_NE(r.output.find(c.named), std::string::npos) << "message does not name " << c.named << ": " << r.output;
    }
}

TEST(BadInput, HelpAndVersion)
{
    RunResult help = run_syncway({"--help"}, {});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* option : {"--backend", "--renderer", "--output", "--socket", "--version", "-- COMMAND"})
        EXPECT_NE(help.output.find(option), std::string::npos) << option << " missing from --help";
    RunResult version = run_syncway({"--version"}, {});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_NE(version.output.find("syncway "), std::string::npos) << version.output;
}

TEST(BadInput, DrmBackendFailsNamingItself)
{
    if (have_drm_card())
        GTEST_SKIP() << "a DRM card exists here; the VM tier tests the drm backend";
    TempDir dir;
    RunResult r = run_syncway({"--backend", "drm"}, headless_env(dir.path()));
    ASSERT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("drm backend: no DRM card"), std::string::npos) << r.output;
}

TEST(BadInput, Gles2WithoutRenderNodeFailsNamingIt)
{
    glob_t g{};
    bool render_node = ::glob("/dev/dri/renderD[0-9]*", 0, nullptr, &g) == 0;
    ::globfree(&g);
    if (render_node)
        GTEST_SKIP() << "a render node exists here: gles2 may work";
    TempDir dir;
    RunResult r = run_syncway({"--backend", "headless", "--renderer", "gles2"}, headless_env(dir.path()));
    ASSERT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("gles2 renderer: no DRM render node"), std::string::npos) << r.output;
}

TEST(BadInput, NestedWithoutParentFailsNamingItself)
{
    TempDir dir;
    RunResult r = run_syncway({"--backend", "wayland"}, headless_env(dir.path()));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("wayland backend: WAYLAND_DISPLAY is not set"), std::string::npos) << r.output;
    auto env = headless_env(dir.path());
    env["WAYLAND_DISPLAY"] = "no-such-socket";
    r = run_syncway({"--backend", "wayland"}, env);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("wayland backend: cannot connect"), std::string::npos) << r.output;
}

TEST(BadInput, SocketInUseFails)
{
    Compositor first;
    ASSERT_TRUE(first.wait_ready()) << first.process().output();
    RunResult r = run_syncway({"--backend", "headless", "--socket", first.socket()},
                              headless_env(first.runtime_dir()));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("'" + first.socket() + "'"), std::string::npos) << r.output;
}

TEST(RuntimeDir, PrivateDirectoryWhenUnset)
{
    // The command leaves what clients leave in a runtime directory (dconf's files, a directory
    // of its own) and a link to a file outside, which must survive.
    TempDir outside;
    std::string keep = outside.path() + "/keep";
    std::ofstream(keep) << "not syncway's";
    RunResult r = run_syncway({"--backend", "headless", "--", "sh", "-c",
                               "echo \"dir=$XDG_RUNTIME_DIR mode=$(stat -c %a \"$XDG_RUNTIME_DIR\")\"; "
                               "mkdir -p \"$XDG_RUNTIME_DIR/dconf/deep\" && echo x > \"$XDG_RUNTIME_DIR/dconf/user\" && "
                               "ln -s " + keep + " \"$XDG_RUNTIME_DIR/link\" && ln -s " + outside.path() +
                                   " \"$XDG_RUNTIME_DIR/dirlink\" && "
                               "test -S \"$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY\""},
                              {{"XDG_RUNTIME_DIR", std::nullopt}, {"WAYLAND_DISPLAY", std::nullopt}, {"DISPLAY", std::nullopt}});
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, std::regex("dir=(/tmp/syncway-\\S+) mode=700"))) << r.output;
    EXPECT_FALSE(std::filesystem::exists(m[1].str())) << "private directory not removed\n" << r.output;
    EXPECT_NE(r.output.find("with 5 entries clients left in it"), std::string::npos) << r.output;
    EXPECT_TRUE(std::filesystem::exists(keep)) << "a link was followed";
}

TEST(RuntimeDir, PrivateDirectoryWhenTooLong)
{
    TempDir dir;
    std::string deep = dir.path() + "/" + std::string(60, 'a') + "/" + std::string(60, 'b');
    std::filesystem::create_directories(deep);
    RunResult r = run_syncway({"--backend", "headless", "--", "sh", "-c",
                               "echo \"dir=$XDG_RUNTIME_DIR\"; test -S \"$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY\""},
                              headless_env(deep));
    ASSERT_TRUE(r.exited) << r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("too long for a socket path"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("dir=/tmp/syncway-"), std::string::npos) << r.output;
}
