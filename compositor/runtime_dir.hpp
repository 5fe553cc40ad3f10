// Where the Wayland socket lives. libwayland puts it in $XDG_RUNTIME_DIR; CI machines often
// have none, and deep paths overflow sockaddr_un.sun_path (108 bytes). Then we make a private
// 0700 directory under /tmp, which main exports (libwayland reads XDG_RUNTIME_DIR itself), and
// remove it on exit.
#pragma once

#include "options.hpp"

#include <syncway/result.hpp>

#include <string>

namespace syncway {

class RuntimeDir {
public:
    // socket_name: the name we will listen on ("wayland-NN" if automatic).
    static Result<RuntimeDir> ensure(const Environment& env, const std::string& socket_name);

    RuntimeDir() = default;
    RuntimeDir(RuntimeDir&& other) noexcept
        : path_(std::move(other.path_)), parent_display_(std::move(other.parent_display_)), owned_(other.owned_)
    {
        other.owned_ = false;
    }
    RuntimeDir& operator=(RuntimeDir&&) = delete;
    RuntimeDir(const RuntimeDir&) = delete;
    ~RuntimeDir();

    const std::string& path() const { return path_; }
    bool owned() const { return owned_; }
    // Set when we made our own directory and a parent compositor's WAYLAND_DISPLAY was relative
    // to the old one: the absolute path to export as WAYLAND_DISPLAY.
    const std::string& parent_display() const { return parent_display_; }

private:
    std::string path_;
    std::string parent_display_;
    bool owned_ = false;  // we created it and remove it
};

} // namespace syncway
