// An owned mmap() region: unmapped exactly once, movable, never copied.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <utility>

namespace syncway {

class Mapping {
public:
    Mapping() noexcept = default;
    Mapping(void* addr, size_t size) noexcept : addr_(addr), size_(size) {}
    Mapping(Mapping&& other) noexcept
        : addr_(std::exchange(other.addr_, MAP_FAILED)), size_(std::exchange(other.size_, 0))
    {
    }
    Mapping& operator=(Mapping&& other) noexcept
    {
        if (this != &other) {
            reset();
            addr_ = std::exchange(other.addr_, MAP_FAILED);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() { reset(); }

    // Maps fd; check valid() (errno is left as mmap set it on failure).
    static Mapping map(int fd, size_t size, int prot, int flags = MAP_SHARED, off_t offset = 0) noexcept
    {
        void* p = ::mmap(nullptr, size, prot, flags, fd, offset);
        if (p == MAP_FAILED)
            return {};
        return Mapping(p, size);
    }

    bool valid() const noexcept { return addr_ != MAP_FAILED; }
    explicit operator bool() const noexcept { return valid(); }
    void* data() const noexcept { return valid() ? addr_ : nullptr; }
    template <typename T> T* as() const noexcept { return static_cast<T*>(data()); }
    size_t size() const noexcept { return size_; }

    void reset() noexcept
    {
        if (addr_ != MAP_FAILED)
            ::munmap(addr_, size_);
        addr_ = MAP_FAILED;
        size_ = 0;
    }

private:
    void* addr_ = MAP_FAILED;
    size_t size_ = 0;
};

} // namespace syncway
