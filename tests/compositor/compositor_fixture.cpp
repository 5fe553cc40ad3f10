#include "compositor_fixture.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace syncway::test {

bool socket_accepts(const std::string& path)
{
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
}

Compositor::Compositor(std::vector<std::string> extra_args, std::vector<std::string> command,
                       std::vector<std::string> launcher)
{
    std::vector<std::string> argv = std::move(launcher);
    argv.insert(argv.end(), {syncway_bin(), "--backend", "headless", "--socket", socket_});
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    if (!command.empty()) {
        argv.push_back("--");
        argv.insert(argv.end(), command.begin(), command.end());
    }
    process_ = std::make_unique<Process>(
        argv, EnvChanges{{"XDG_RUNTIME_DIR", dir_.path()}, {"WAYLAND_DISPLAY", std::nullopt}, {"DISPLAY", std::nullopt}});
}

Compositor::~Compositor()
{
    process_->signal(SIGTERM);
    process_->wait(10s);
}

bool Compositor::wait_ready()
{
    std::string path = dir_.path() + "/" + socket_;
    return wait_until([&] { return !process_->running() || socket_accepts(path); }, startup_timeout) &&
           process_->running();
}

EnvChanges Compositor::client_env() const
{
    return {{"XDG_RUNTIME_DIR", dir_.path()}, {"WAYLAND_DISPLAY", socket_}, {"DISPLAY", std::nullopt}};
}

std::optional<Image> Compositor::screenshot(std::string* error) const
{
    std::string path = dir_.path() + "/shot.ppm";
    RunResult r = run({"grim", "-t", "ppm", path}, client_env(), 20s);
    if (!r.exited || r.exit_code != 0) {
        if (error)
            *error = "grim failed (" + std::to_string(r.exit_code) + "): " + r.output;
        return std::nullopt;
    }
    auto image = Image::load_ppm(path);
    if (!image && error)
        *error = "grim wrote no readable PPM";
    return image;
}

std::optional<Image> Compositor::wait_for_screenshot(const std::function<bool(const Image&)>& predicate,
                                                     std::chrono::milliseconds timeout) const
{
    std::optional<Image> last;
    wait_until(
        [&] {
            last = screenshot();
            return last && predicate(*last);
        },
        timeout);
    return last;
}

} // namespace syncway::test
