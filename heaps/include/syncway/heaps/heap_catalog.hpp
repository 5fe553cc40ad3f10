// The dma-buf heaps a system offers (/dev/dma_heap/*), and choosing one by what the caller
// needs or by name.
#pragma once

#include "syncway/heaps/heap_name.hpp"
#include "syncway/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace syncway::heaps {

inline constexpr const char* default_heap_dir = "/dev/dma_heap";

struct Heap {
    HeapProperties properties;
    std::string path;
    // False for a plain file (a test fixture): it will be listed, and allocation from it fails.
    bool is_device = false;
};

enum class Need { Any, Required, Forbidden };

// What the caller needs from a heap's memory. The defaults suit CPU rendering: anything the
// CPU may map (not protected), preferring cacheable, non-contiguous memory.
struct HeapRequirements {
    Need cacheable = Need::Any;
    Need contiguous = Need::Any;
    Need protected_memory = Need::Forbidden;

    bool operator==(const HeapRequirements&) const = default;
};

bool satisfies(const HeapProperties& properties, const HeapRequirements& needs);
std::string describe(const HeapRequirements& needs);

class HeapCatalog {
public:
    // A missing directory is not an error: the kernel has no heaps (exists() is false).
    // An unreadable one is.
    static Result<HeapCatalog> scan(std::string dir = default_heap_dir);

    const std::string& directory() const noexcept { return dir_; }
    bool exists() const noexcept { return exists_; }
    const std::vector<Heap>& heaps() const noexcept { return heaps_; }

    // ENOENT naming the heaps that do exist.
    Result<Heap> find(std::string_view name) const;
    // The best heap meeting `needs` (see heap_catalog.cpp for the ranking); ENOENT saying why not.
    Result<Heap> choose(const HeapRequirements& needs) const;

private:
    std::string dir_;
    bool exists_ = false;
    std::vector<Heap> heaps_; // sorted by name
};

} // namespace syncway::heaps
