#include "vulkan_layer_env.hpp"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string_view>

namespace syncway {

namespace {

// The directory of the running binary.
std::string exe_dir()
{
    char path[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return {};
    std::string_view p(path, size_t(n));
    return std::string(p.substr(0, p.rfind('/')));
}

} // namespace

std::vector<std::string> vulkan_layer_env(bool enabled, const std::string& xdg_data_dirs)
{
    if (!enabled)
        return {"SYNCWAY_VULKAN_LAYER_DISABLE=1"};
    std::vector<std::string> env = {"SYNCWAY_VULKAN_LAYER=1"};
#if defined(SYNCWAY_BUILD_DIR) && defined(SYNCWAY_WSI_BUILD_DATA_DIR)
    // Only the binary in the build tree uses the build tree's layer; an installed syncway has
    // the installed manifest in the loader's standard directories.
    if (exe_dir() == SYNCWAY_BUILD_DIR) {
        // The XDG default when unset, kept after ours so nothing else moves.
        std::string rest = !xdg_data_dirs.empty() ? xdg_data_dirs : "/usr/local/share:/usr/share";
        env.push_back(std::string("XDG_DATA_DIRS=") + SYNCWAY_WSI_BUILD_DATA_DIR + ":" + rest);
    }
#endif
    return env;
}

} // namespace syncway
