// One headless syncway with explicit sync, the test's own syncobj connection to the service it
// hosts, and the colours and places the protocol tests look at.
#pragma once

#include "compositor_fixture.hpp"
#include "sync_client.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace syncway::test {

constexpr Color red{200, 30, 30};
constexpr Color blue{30, 30, 200};
constexpr Color green{30, 200, 30};
constexpr Color yellow{220, 220, 40};

inline Rgb rgb(Color c) { return Rgb{c.r, c.g, c.b}; }

class SyncSession {
public:
    explicit SyncSession(std::vector<std::string> extra_args = {}, std::vector<std::string> launcher = {})
        : compositor_(with_output(std::move(extra_args)), {}, std::move(launcher))
    {
        ready_ = compositor_.wait_ready();
        // No service socket with --syncobj off or kernel.
        if (ready_ && SyncobjDevice::kernel_requested()) {
            dev_ = std::make_unique<SyncobjDevice>(SyncobjDevice::Kernel{});
            // Which timelines syncway takes, for the VM tier's check of the --syncobj mode.
            std::string out = log();
            size_t at = out.find("explicit sync (");
            if (at != std::string::npos)
                std::fprintf(stderr, "syncway: %s\n", out.substr(at, out.find('\n', at) - at).c_str());
        }
        else if (ready_ && access(service_socket().c_str(), F_OK) == 0)
            dev_ = std::make_unique<SyncobjDevice>(service_socket());
    }

    bool ready() const { return ready_; }
    Compositor& compositor() { return compositor_; }
    // The test's own timelines; a test that needs them where syncway advertised no explicit sync
    // fails (gtest reports the exception) instead of crashing the test binary.
    const SyncobjDevice& dev() const
    {
        if (!dev_)
            throw std::runtime_error("no syncobj device: syncway did not start its service or take kernel "
                                     "timelines (see its log)");
        return *dev_;
    }
    std::string service_socket() const
    {
        return compositor_.runtime_dir() + "/syncway-syncobj-" + std::to_string(pid()) + ".sock";
    }
    pid_t pid() const { return const_cast<Compositor&>(compositor_).process().pid(); }
    std::string log() { return compositor_.process().output(); }

    std::unique_ptr<Client> connect() const
    {
        return std::make_unique<Client>(compositor_.runtime_dir(), compositor_.socket());
    }

    // The colour at (x, y) of a fresh screenshot (nullopt if grim failed).
    std::optional<Rgb> pixel(int x, int y) const
    {
        auto image = compositor_.screenshot();
        if (!image)
            return std::nullopt;
        return image->at(x, y);
    }
    // Polls screenshots until (x, y) shows `color`.
    bool shows(int x, int y, Color color, std::chrono::milliseconds timeout = client_timeout) const
    {
        auto image = compositor_.wait_for_screenshot([&](const Image& i) { return i.at(x, y) == rgb(color); }, timeout);
        return image && image->at(x, y) == rgb(color);
    }
    // SIGTERM, then a clean exit: status 0, which in the sanitizer build also means no leak
    // and no memory error in the compositor (they abort it).
    ::testing::AssertionResult shuts_down_cleanly()
    {
        Process& p = compositor_.process();
        p.signal(SIGTERM);
        if (!p.wait(client_timeout))
            return ::testing::AssertionFailure() << "syncway did not exit after SIGTERM\n" << p.output();
        if (p.exit_code() != 0)
            return ::testing::AssertionFailure() << "syncway exited with " << p.exit_code() << "\n" << p.output();
        return ::testing::AssertionSuccess();
    }
    // Open file descriptors of the compositor (for leak checks), not counting the shared-memory
    // files wlroots allocates on its own schedule (/dev/shm/wlroots-*: the headless output's
    // swapchain buffers, which it adds when the frames in flight need one more, and keymaps).
    // Everything a client brings (its wl_shm pools are memfds, its timelines sockets, its waits
    // eventfds) is counted.
    int fd_count() const
    {
        std::string dir_path = "/proc/" + std::to_string(pid()) + "/fd";
        DIR* dir = opendir(dir_path.c_str());
        if (!dir)
            return -1;
        int n = 0;
        while (dirent* e = readdir(dir)) {
            if (e->d_name[0] == '.')
                continue;
            char target[256] = {};
            ssize_t len = readlink((dir_path + "/" + e->d_name).c_str(), target, sizeof target - 1);
            n += !(len > 0 && std::string_view(target, static_cast<size_t>(len)).starts_with("/dev/shm/wlroots-"));
        }
        closedir(dir);
        return n;
    }

    // What each open descriptor of the compositor is (for the message of a failed leak check).
    std::string fd_list() const
    {
        std::string dir_path = "/proc/" + std::to_string(pid()) + "/fd", out;
        DIR* dir = opendir(dir_path.c_str());
        if (!dir)
            return out;
        while (dirent* e = readdir(dir)) {
            if (e->d_name[0] == '.')
                continue;
            char target[256] = {};
            ssize_t n = readlink((dir_path + "/" + e->d_name).c_str(), target, sizeof target - 1);
            out += std::string(e->d_name) + " -> " + (n > 0 ? std::string(target, static_cast<size_t>(n)) : "?") + "\n";
        }
        closedir(dir);
        return out;
    }

private:
    static std::vector<std::string> with_output(std::vector<std::string> args)
    {
        args.insert(args.begin(), {"--output", "640x480"});
        return args;
    }

    Compositor compositor_;
    bool ready_ = false;
    std::unique_ptr<SyncobjDevice> dev_;
};

// A timeline of the test process, imported by one client.
struct SyncTimeline {
    SyncTimeline(const SyncSession& session, Client& client)
        : fd(session.dev().create_timeline()), object(client.import(fd.get()))
    {
    }
    UniqueFd fd;
    wp_linux_drm_syncobj_timeline_v1* object;
};

// Long enough for several 60 Hz frames to be rendered (the held content must not show in any).
inline void let_frames_pass() { std::this_thread::sleep_for(std::chrono::milliseconds(150)); }

} // namespace syncway::test
