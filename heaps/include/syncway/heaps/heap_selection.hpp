// Which memory a program's own buffers should come from, as a user names it on a command line
// (`--buffer-heap` in syncway): no heaps at all, the automatic choice, one heap by name, or
// the properties the memory must have, matched against heap names by the naming convention
// (heap_name.hpp). Resolving a selection is an allocation of one buffer: what succeeded is the
// source every later buffer uses, and the reason says why the ones before it were passed over.
#pragma once

#include "syncway/heaps/allocator.hpp"
#include "syncway/result.hpp"

#include <string>
#include <string_view>

namespace syncway::heaps {

struct HeapSelection {
    enum class Kind {
        None,       // the program's own allocator, no heaps/
        Auto,       // a heap meeting the default requirements, else udmabuf, else memfd
        Named,      // exactly this heap; an error if it is missing, unopenable or cannot allocate
        Properties, // the best heap meeting `requirements`; an error if none does
    };
    Kind kind = Kind::Auto;
    std::string name;              // Kind::Named
    HeapRequirements requirements; // Kind::Properties

    bool operator==(const HeapSelection&) const = default;
};

// "none", "auto", a comma-separated list of properties ("contiguous,uncacheable"), or a heap
// name. The words of the properties form: cacheable, uncacheable, contiguous, non-contiguous
// (and the spellings cached, uncached). A text is the properties form only when every word in
// it is one of those, so heap names with commas (`linux,cma`) stay names. Errors name the text:
// an empty one, contradicting words, `protected` (the CPU cannot map protected memory).
Result<HeapSelection> parse_heap_selection(std::string_view text);

// "auto", "none", "heap 'system'", "a heap that is contiguous, uncacheable".
std::string describe(const HeapSelection& selection);

// The allocation that resolves `selection` (not None) for one buffer of `size` bytes.
AllocationRequest request_for(const HeapSelection& selection, uint64_t size, std::string debug_name);

// Where a resolved selection's buffers come from: the backend and heap the resolving
// allocation used, to be forced for every later buffer so that all of them agree.
struct BufferSource {
    Backend backend = Backend::Memfd;
    std::string heap_name;  // Backend::Heap
    std::string reason;     // why this source: the selection, and what was passed over

    bool is_dmabuf() const noexcept { return backend != Backend::Memfd; }
    std::string describe() const; // "dma-buf heap 'system'", "udmabuf", "memfd (not a dma-buf)"
    // The same source for a later buffer.
    AllocationRequest request(uint64_t size, std::string debug_name) const;
};

// Allocates one buffer of `size` bytes as `selection` asks (not None) and says where it came
// from. Auto falls through heap → udmabuf → memfd; with `need_dmabuf` a memfd does not count
// (ENODEV, with every reason). Named and Properties never fall back: the error names the heap
// or the properties and what exists.
struct ResolvedSource {
    BufferSource source;
    Buffer buffer; // the buffer the resolution allocated (callers may use it as a probe)
};
Result<ResolvedSource> resolve_source(const Allocator& allocator, const HeapSelection& selection, uint64_t size,
                                      bool need_dmabuf, const std::string& debug_name = "syncway-probe");

} // namespace syncway::heaps
