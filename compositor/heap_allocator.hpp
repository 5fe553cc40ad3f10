// A wlr_allocator whose buffers come from heaps/: a dma-buf heap, udmabuf or a sealed memfd,
// whichever one BufferSource names (output_buffers.cpp resolves `--buffer-heap` into one).
// Each buffer is linear, single-plane, mapped once for the CPU for its whole life, and offers:
// - its dma-buf (get_dmabuf) when the source makes dma-bufs, so the DRM backend imports it
//   (PRIME + AddFB2) and a nested backend shares it through linux-dmabuf;
// - its memfd (get_shm) when the source is memfd, so a nested backend shares it through wl_shm;
// - CPU access for the pixman renderer (begin/end_data_ptr_access), bracketed with
//   DMA_BUF_IOCTL_SYNC on dma-bufs so the exporter's caches are right for the display.
#pragma once

#include "wlr_ptr.hpp"

#include <syncway/heaps/heap_selection.hpp>

#include <string>

namespace syncway {

// `label` names the buffers (DMA_BUF_SET_NAME / the memfd's name: fdinfo, debugfs).
AllocatorPtr create_heap_allocator(heaps::Allocator allocator, heaps::BufferSource source, std::string label);

bool is_heap_allocator(const wlr_allocator* allocator);
// The source of a heap allocator's buffers; nullptr for any other allocator.
const heaps::BufferSource* heap_allocator_source(const wlr_allocator* allocator);

// The heaps/ backend behind a buffer made by a heap allocator; false for any other buffer.
bool is_heap_buffer(wlr_buffer* buffer);

} // namespace syncway
