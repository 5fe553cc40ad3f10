#include "syncway/heaps/heap_selection.hpp"

#include <cerrno>
#include <vector>

namespace syncway::heaps {
namespace {

std::vector<std::string_view> split_commas(std::string_view text)
{
    std::vector<std::string_view> words;
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        words.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos)
            return words;
        start = comma + 1;
    }
}

enum class Word { Cacheable, Uncacheable, Contiguous, NonContiguous, Protected, Other };

Word classify(std::string_view word)
{
    if (word == "cacheable" || word == "cached")
        return Word::Cacheable;
    if (word == "uncacheable" || word == "uncached")
        return Word::Uncacheable;
    if (word == "contiguous")
        return Word::Contiguous;
    if (word == "non-contiguous" || word == "noncontiguous")
        return Word::NonContiguous;
    if (word == "protected")
        return Word::Protected;
    return Word::Other;
}

Error bad(std::string_view text, const std::string& why)
{
    return make_error(EINVAL, "invalid --buffer-heap '" + std::string(text) + "': " + why);
}

// Sets `need` from one word, refusing a word that contradicts an earlier one.
bool set_need(Need& need, Need value)
{
    if (need != Need::Any && need != value)
        return false;
    need = value;
    return true;
}

std::string property_words(const HeapRequirements& needs)
{
    std::string out;
    auto add = [&](const char* word) {
        if (!out.empty())
            out += ", ";
        out += word;
    };
    if (needs.cacheable == Need::Required)
        add("cacheable");
    if (needs.cacheable == Need::Forbidden)
        add("uncacheable");
    if (needs.contiguous == Need::Required)
        add("contiguous");
    if (needs.contiguous == Need::Forbidden)
        add("non-contiguous");
    return out;
}

} // namespace

Result<HeapSelection> parse_heap_selection(std::string_view text)
{
    HeapSelection selection;
    if (text.empty())
        return bad(text, "expected none, auto, a heap name or properties such as contiguous,uncacheable");
    if (text == "none") {
        selection.kind = HeapSelection::Kind::None;
        return selection;
    }
    if (text == "auto") {
        selection.kind = HeapSelection::Kind::Auto;
        return selection;
    }
    std::vector<std::string_view> words = split_commas(text);
    bool all_properties = true;
    for (std::string_view word : words)
        all_properties = all_properties && classify(word) != Word::Other;
    if (!all_properties) {
        // A heap name: whatever /dev/dma_heap may hold, but never a path.
        if (text.find('/') != std::string_view::npos || text == "." || text == "..")
            return bad(text, "a heap name is a file name in /dev/dma_heap, not a path");
        selection.kind = HeapSelection::Kind::Named;
        selection.name = std::string(text);
        return selection;
    }
    selection.kind = HeapSelection::Kind::Properties;
    HeapRequirements& needs = selection.requirements;
    for (std::string_view word : words) {
        bool consistent = true;
        switch (classify(word)) {
        case Word::Cacheable: consistent = set_need(needs.cacheable, Need::Required); break;
        case Word::Uncacheable: consistent = set_need(needs.cacheable, Need::Forbidden); break;
        case Word::Contiguous: consistent = set_need(needs.contiguous, Need::Required); break;
        case Word::NonContiguous: consistent = set_need(needs.contiguous, Need::Forbidden); break;
        case Word::Protected:
            return bad(text, "protected memory cannot be mapped by the CPU, which renders syncway's buffers");
        case Word::Other: break;
        }
        if (!consistent)
            return bad(text, "'" + std::string(word) + "' contradicts an earlier property");
    }
    return selection;
}

std::string describe(const HeapSelection& selection)
{
    switch (selection.kind) {
    case HeapSelection::Kind::None: return "none";
    case HeapSelection::Kind::Auto: return "auto";
    case HeapSelection::Kind::Named: return "heap '" + selection.name + "'";
    case HeapSelection::Kind::Properties: return "a heap that is " + property_words(selection.requirements);
    }
    return "?";
}

AllocationRequest request_for(const HeapSelection& selection, uint64_t size, std::string debug_name)
{
    AllocationRequest request;
    request.size = size;
    request.debug_name = std::move(debug_name);
    switch (selection.kind) {
    case HeapSelection::Kind::Named:
        request.backend = BackendChoice::Heap;
        request.heap_name = selection.name;
        break;
    case HeapSelection::Kind::Properties:
        request.backend = BackendChoice::Heap;
        request.requirements = selection.requirements;
        break;
    case HeapSelection::Kind::None:
    case HeapSelection::Kind::Auto:
        request.backend = BackendChoice::Auto;
        break;
    }
    return request;
}

std::string BufferSource::describe() const
{
    switch (backend) {
    case Backend::Heap: return "dma-buf heap '" + heap_name + "'";
    case Backend::Udmabuf: return "udmabuf";
    case Backend::Memfd: return "memfd (not a dma-buf)";
    }
    return "?";
}

AllocationRequest BufferSource::request(uint64_t size, std::string debug_name) const
{
    AllocationRequest request;
    request.size = size;
    request.debug_name = std::move(debug_name);
    switch (backend) {
    case Backend::Heap:
        request.backend = BackendChoice::Heap;
        request.heap_name = heap_name;
        break;
    case Backend::Udmabuf: request.backend = BackendChoice::Udmabuf; break;
    case Backend::Memfd: request.backend = BackendChoice::Memfd; break;
    }
    return request;
}

Result<ResolvedSource> resolve_source(const Allocator& allocator, const HeapSelection& selection, uint64_t size,
                                      bool need_dmabuf, const std::string& debug_name)
{
    if (selection.kind == HeapSelection::Kind::None)
        return make_error(EINVAL, "--buffer-heap none selects no heaps/ source");
    const std::string asked = "--buffer-heap " + describe(selection);

    if (selection.kind != HeapSelection::Kind::Auto) {
        Result<Buffer> buffer = allocator.allocate(request_for(selection, size, debug_name));
        if (!buffer)
            return make_error(buffer.error().code, asked + ": " + buffer.error().message);
        ResolvedSource out;
        out.source.backend = buffer->backend;
        out.source.heap_name = buffer->heap_name;
        out.source.reason = selection.kind == HeapSelection::Kind::Named
                                ? asked
                                : asked + ": '" + buffer->heap_name + "' meets it (" +
                                      describe(parse_heap_name(buffer->heap_name)) + ")";
        out.buffer = std::move(buffer.value());
        return out;
    }

    // Auto: the allocator's own fall-through (heap, udmabuf, memfd), unless only a dma-buf
    // will do, in which case memfd is not tried and its absence is the error.
    AllocationRequest request = request_for(selection, size, debug_name);
    Result<Buffer> buffer = Error{};
    std::string passed_over;
    if (need_dmabuf) {
        for (BackendChoice step : {BackendChoice::Heap, BackendChoice::Udmabuf}) {
            request.backend = step;
            buffer = allocator.allocate(request);
            if (buffer || buffer.error().code == ENOMEM)
                break;
            passed_over += (passed_over.empty() ? "" : "; ") + buffer.error().message;
        }
        if (!buffer && buffer.error().code != ENOMEM)
            return make_error(ENODEV, asked + ": no dma-buf source: " + passed_over);
        if (buffer)
            buffer->fallback_reason = passed_over;
    } else {
        buffer = allocator.allocate(request);
    }
    if (!buffer)
        return make_error(buffer.error().code, asked + ": " + buffer.error().message);

    ResolvedSource out;
    out.source.backend = buffer->backend;
    out.source.heap_name = buffer->heap_name;
    out.source.reason = buffer->backend == Backend::Heap
                            ? asked + ": '" + buffer->heap_name + "' is the best heap for CPU rendering (" +
                                  describe(parse_heap_name(buffer->heap_name)) + ")"
                            : asked + ": " + buffer->fallback_reason;
    out.buffer = std::move(buffer.value());
    return out;
}

} // namespace syncway::heaps
