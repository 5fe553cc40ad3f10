// What a dma-buf heap's name says about its memory, read by the kernel's naming convention
// (Documentation/userspace-api/dma-buf-heaps.rst): the name names a memory region, optionally
// with a unit address (`memory@42000000`), followed by properties of the buffers
// (`cacheable`/`uncacheable`, `contiguous`, `protected`) and perhaps an intended usage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syncway::heaps {

enum class Caching { Unknown, Cached, Uncached };

struct HeapProperties {
    std::string name;                 // as it appears in /dev/dma_heap
    std::string region;               // the memory region, without address and properties
    std::string address;              // text after '@' (a device-tree unit address), or empty
    std::optional<uint64_t> address_value; // the address when it is plain hexadecimal
    Caching caching = Caching::Unknown;
    bool contiguous = false;
    bool protected_memory = false;
    // One of the CMA heap's names before Linux 6.17 (`reserved`, `linux,cma`, `default-pool`).
    bool legacy_name = false;
    // Words that are neither the region nor a known property (an intended usage, e.g. "video").
    std::vector<std::string> other_words;
};

// Never fails: an unconventional name is a region with no known properties.
HeapProperties parse_heap_name(std::string_view name);

// "cacheable, contiguous" — the properties for humans (e.g. `syncway-heaps list`).
std::string describe(const HeapProperties& properties);

const char* to_string(Caching caching);

} // namespace syncway::heaps
