// Where the Wayland socket lives. libwayland puts it in $XDG_RUNTIME_DIR; CI machines often
// have none, and deep paths overflow sockaddr_un.sun_path (108 bytes). Then we make a private
// 0700 directory under /tmp, export it, and remove it on exit.
#pragma once

#include <syncway/result.hpp>

#include <string>

namespace syncway {

class RuntimeDir {
public:
    // socket_name: the name we will listen on ("wayland-NN" if automatic).
    static Result<RuntimeDir> ensure(const std::string& socket_name);

    RuntimeDir() = default;
    RuntimeDir(RuntimeDir&& other) noexcept : path_(std::move(other.path_)), owned_(other.owned_)
    {
        other.owned_ = false;
    }
    RuntimeDir& operator=(RuntimeDir&&) = delete;
    RuntimeDir(const RuntimeDir&) = delete;
    ~RuntimeDir();

    const std::string& path() const { return path_; }
    bool owned() const { return owned_; }

private:
    std::string path_;
    bool owned_ = false;  // we created it and remove it
};

} // namespace syncway
