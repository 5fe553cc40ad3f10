#include "runtime_dir.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace syncway {
namespace {

std::string why_unusable(const char* dir, const std::string& socket_name)
{
    if (!dir || !*dir)
        return "XDG_RUNTIME_DIR is not set";
    struct stat st {};
    if (::stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return std::string("XDG_RUNTIME_DIR '") + dir + "' is not a directory";
    if (::access(dir, W_OK | X_OK) != 0)
        return std::string("XDG_RUNTIME_DIR '") + dir + "' is not writable";
    // "dir/name" plus the terminating NUL must fit sun_path.
    if (std::strlen(dir) + 1 + socket_name.size() + 1 > sizeof(sockaddr_un{}.sun_path))
        return std::string("XDG_RUNTIME_DIR '") + dir + "' is too long for a socket path";
    return {};
}

} // namespace

Result<RuntimeDir> RuntimeDir::ensure(const Environment& env, const std::string& socket_name)
{
    RuntimeDir result;
    const char* current = env.xdg_runtime_dir.empty() ? nullptr : env.xdg_runtime_dir.c_str();
    std::string reason = why_unusable(current, socket_name);
    if (reason.empty()) {
        result.path_ = env.xdg_runtime_dir;
        return result;
    }
    std::string tmpl = "/tmp/syncway-XXXXXX";
    if (!::mkdtemp(tmpl.data()))  // mkdtemp creates it 0700
        return make_error(errno, reason + ", and creating a private one in /tmp failed: " +
                                     std::strerror(errno));
    result.path_ = tmpl;
    result.owned_ = true;
    // A parent compositor's socket is still found where it was (nested mode): libwayland
    // accepts an absolute WAYLAND_DISPLAY.
    const std::string& parent = env.wayland_display;
    if (!parent.empty() && parent[0] != '/' && current)
        result.parent_display_ = env.xdg_runtime_dir + "/" + parent;
    std::fprintf(stderr, "syncway: %s; using the private directory %s\n", reason.c_str(),
                 result.path_.c_str());
    return result;
}

RuntimeDir::~RuntimeDir()
{
    // The socket and its lock are gone by now (wl_display_destroy); anything a client left
    // behind stays, and so does the directory, rather than deleting files we do not know.
    if (owned_ && ::rmdir(path_.c_str()) != 0)
        std::fprintf(stderr, "syncway: could not remove %s: %s\n", path_.c_str(), std::strerror(errno));
}

} // namespace syncway
