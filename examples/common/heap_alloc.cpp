// A C entry point into heaps/ (a C++ library) for the examples, which are C.
#include "heap_alloc.h"

#include "syncway/heaps/allocator.hpp"

#include <cstdio>

int heap_alloc(uint64_t size, const char* name, const char** backend, char* fallback, size_t fallback_size,
               char* error, size_t error_size)
{
    syncway::heaps::AllocationRequest request;
    request.size = size;
    request.debug_name = name;
    auto buffer = syncway::heaps::Allocator().allocate(request);
    if (!buffer) {
        std::snprintf(error, error_size, "%s", buffer.error().message.c_str());
        return -1;
    }
    *backend = syncway::heaps::to_string(buffer->backend);
    std::snprintf(fallback, fallback_size, "%s", buffer->fallback_reason.c_str());
    return buffer->fd.release();
}
