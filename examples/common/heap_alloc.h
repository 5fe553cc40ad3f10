/* The one thing the examples take from heaps/ (a C++ library): a buffer another process can
 * map, from a dma-buf heap, else udmabuf, else a sealed memfd. */
#ifndef EXAMPLES_COMMON_HEAP_ALLOC_H
#define EXAMPLES_COMMON_HEAP_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the fd of a buffer of at least `size` bytes (the caller owns it), or -1 with the
 * reason in `error`. `*backend` names where it came from ("heap", "udmabuf", "memfd"; a
 * static string); `fallback` receives why earlier backends were skipped ("" if none). */
int heap_alloc(uint64_t size, const char *name, const char **backend, char *fallback,
	       size_t fallback_size, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
