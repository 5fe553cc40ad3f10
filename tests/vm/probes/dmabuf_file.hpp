// What the kernel says about a dma-buf fd: its size and /proc fdinfo (exporter, name).
#pragma once

#include "probe.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace syncway::vm {

// The value of "key:\t..." in /proc/self/fdinfo/<fd>, or empty.
inline std::string fdinfo_field(int fd, std::string_view key)
{
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':') {
            auto value = line.substr(key.size() + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            return value;
        }
    }
    return {};
}

// A dma-buf fd: lseek(SEEK_END) gives its size and fdinfo names its exporter.
inline Status expect_dmabuf(int fd, size_t min_size, std::string_view exporter)
{
    off_t size = ::lseek(fd, 0, SEEK_END);
    if (size < 0)
        return sys_error("lseek(SEEK_END) on the dma-buf");
    ::lseek(fd, 0, SEEK_SET);
    if (static_cast<size_t>(size) < min_size)
        return wrong("dma-buf is " + std::to_string(size) + " bytes, asked for " + std::to_string(min_size));
    auto exp_name = fdinfo_field(fd, "exp_name");
    if (exp_name != exporter)
        return wrong("dma-buf exporter is '" + exp_name + "', expected '" + std::string(exporter) + "'");
    return Ok{};
}

// Fills [data, data+size) with a pattern that differs per 4-byte word and per seed.
inline void fill_pattern(void* data, size_t size, uint32_t seed)
{
    auto* words = static_cast<uint32_t*>(data);
    for (size_t i = 0; i < size / 4; ++i)
        words[i] = static_cast<uint32_t>(i * 2654435761u) ^ seed;
}

// The first word offset where the pattern differs, or -1.
inline long find_pattern_mismatch(const void* data, size_t size, uint32_t seed)
{
    auto* words = static_cast<const uint32_t*>(data);
    for (size_t i = 0; i < size / 4; ++i)
        if (words[i] != (static_cast<uint32_t>(i * 2654435761u) ^ seed))
            return static_cast<long>(i * 4);
    return -1;
}

} // namespace syncway::vm
