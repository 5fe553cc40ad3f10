#include "runtime_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
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

// Empties the directory `fd` (which this takes over), never following a symbolic link: links
// are removed, not what they point to. Counts what it removed; false at the first thing it could
// not remove (errno set). `depth` bounds the recursion.
bool remove_contents(int fd, int depth, unsigned& removed)
{
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        ::close(fd);
        return false;
    }
    bool ok = true;
    while (dirent* entry = ::readdir(dir)) {
        const char* name = entry->d_name;
        if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0)
            continue;
        struct stat st {};
        if (::fstatat(::dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            ok = false;
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            int child = depth > 0 ? ::openat(::dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
            if (child < 0 || !remove_contents(child, depth - 1, removed) ||
                ::unlinkat(::dirfd(dir), name, AT_REMOVEDIR) != 0) {
                ok = false;
                break;
            }
        } else if (::unlinkat(::dirfd(dir), name, 0) != 0) {
            ok = false;
            break;
        }
        ++removed;
    }
    int saved = errno;
    ::closedir(dir);
    errno = saved;
    return ok;
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
    // The socket and its lock are gone by now (wl_display_destroy). The directory is this run's
    // XDG_RUNTIME_DIR, which the XDG base directory spec ties to the session: what clients left
    // in it (dconf's and at-spi's runtime files, sockets of their own) goes with it, as it does
    // at logout. It is ours alone (0700, made by mkdtemp); links in it are removed, never
    // followed.
    if (!owned_)
        return;
    unsigned removed = 0;
    int fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || !remove_contents(fd, 16, removed) || ::rmdir(path_.c_str()) != 0) {
        std::fprintf(stderr, "syncway: could not remove %s: %s\n", path_.c_str(), std::strerror(errno));
        return;
    }
    if (removed > 0)
        std::fprintf(stderr, "syncway: removed %s with %u entries clients left in it\n", path_.c_str(), removed);
}

} // namespace syncway
