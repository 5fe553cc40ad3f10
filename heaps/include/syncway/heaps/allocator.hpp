// Allocating shareable buffers: a dma-buf from a dma-buf heap, else a udmabuf (a sealed memfd
// turned into a dma-buf), else a plain sealed memfd. The caller is always told which it got.
#pragma once

#include "syncway/heaps/heap_catalog.hpp"
#include "syncway/mapping.hpp"
#include "syncway/result.hpp"
#include "syncway/unique_fd.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncway::heaps {

enum class Backend { Heap, Udmabuf, Memfd };
enum class BackendChoice { Auto, Heap, Udmabuf, Memfd };

const char* to_string(Backend backend);
const char* to_string(BackendChoice choice);
std::optional<BackendChoice> parse_backend_choice(std::string_view text); // "auto", "heap", ...

inline constexpr const char* default_udmabuf_device = "/dev/udmabuf";

// Where the kernel interfaces live; tests point these at fixtures.
struct AllocatorPaths {
    std::string heap_dir = default_heap_dir;
    std::string udmabuf_device = default_udmabuf_device;
};

struct AllocationRequest {
    uint64_t size = 0;                   // rounded up to whole pages
    std::string debug_name = "syncway";  // DMA_BUF_SET_NAME / memfd name, for fdinfo and debugfs
    BackendChoice backend = BackendChoice::Auto;
    // A heap by name: implies the heap backend (an unknown name is an error, not a fallback).
    std::string heap_name;
    HeapRequirements requirements;       // used when no heap is named
};

struct Buffer {
    UniqueFd fd;
    Backend backend = Backend::Memfd;
    std::string heap_name;       // for Backend::Heap
    uint64_t size = 0;           // page-aligned
    std::string fallback_reason; // why the backends before this one were not used; empty if none

    // A dma-buf (heap, udmabuf) rather than a plain memfd.
    bool is_dmabuf() const noexcept { return backend != Backend::Memfd; }
    // MAP_SHARED over the whole buffer.
    Result<Mapping> map(int prot = PROT_READ | PROT_WRITE) const;
};

struct BackendStatus {
    Backend backend;
    bool available;
    std::string detail; // the heap that would be used, or why the backend is unavailable
};

class Allocator {
public:
    explicit Allocator(AllocatorPaths paths = {}) : paths_(std::move(paths)) {}

    // Auto tries heap, udmabuf, memfd in that order and falls through on any failure except
    // ENOMEM (memory that is exhausted would only be hidden by a fallback). A forced backend
    // that is unavailable is an error naming what is missing.
    Result<Buffer> allocate(const AllocationRequest& request) const;

    // What allocate() would find for these requirements, per backend, in the Auto order.
    std::vector<BackendStatus> probe(const HeapRequirements& needs = {}) const;

    const AllocatorPaths& paths() const noexcept { return paths_; }

private:
    Result<Buffer> from_heap(const AllocationRequest& request, uint64_t size) const;
    Result<Buffer> from_udmabuf(const AllocationRequest& request, uint64_t size) const;
    Result<Buffer> from_memfd(const AllocationRequest& request, uint64_t size) const;

    AllocatorPaths paths_;
};

// Validates a requested size: non-zero, page-alignable, not above physical memory (memfd
// allocates lazily, so a huge size would otherwise "succeed" and fail at first touch).
Result<uint64_t> checked_allocation_size(uint64_t size);

} // namespace syncway::heaps
