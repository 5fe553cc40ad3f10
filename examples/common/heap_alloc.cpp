// A C entry point into heaps/ (a C++ library) for the examples, which are C.
#include "heap_alloc.h"

#include "syncway/heaps/allocator.hpp"

#include <cstdio>
#include <string>

int heap_alloc(uint64_t size, const char* name, const char** backend, const char** fallback,
                          char* error, size_t error_size)
{
    // The strings handed back must outlive this call; one allocation at a time is all the
    // examples do, from their main thread.
    static std::string last_fallback;
    syncway::heaps::AllocationRequest request;
    request.size = size;
    request.debug_name = name;
    auto buffer = syncway::heaps::Allocator().allocate(request);
    if (!buffer) {
        std::snprintf(error, error_size, "%s", buffer.error().message.c_str());
        return -1;
    }
    last_fallback = buffer->fallback_reason;
    *backend = syncway::heaps::to_string(buffer->backend);
    *fallback = last_fallback.c_str();
    return buffer->fd.release();
}
