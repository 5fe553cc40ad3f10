// A wlr_buffer that presents another, known-linear buffer as explicitly LINEAR. DRM dumb
// buffers are linear by definition, but wlroots 0.15's dumb allocator reports their modifier
// as INVALID (implicit), and the DRM backend only scans out cursor-plane buffers whose
// modifier the plane lists: LINEAR. Same memory, same dma-buf fds, honest modifier.
#pragma once

#include "wlr_ptr.hpp"

namespace syncway {

// Takes ownership of inner (a buffer whose memory is linear, e.g. a DRM dumb buffer).
// nullptr if inner offers no dma-buf.
BufferPtr wrap_as_linear(BufferPtr inner);

} // namespace syncway
