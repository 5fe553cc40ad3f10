// A decoded, validated request of the service wire format (protocol/syncobj-service). The
// decoder trusts nothing: sizes, pads, counts and ops are checked before anything is used.
#pragma once

#include <syncobj_service_wire.h>
#include <syncway/result.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace syncway::syncobj {

struct WireRequest {
    uint16_t op = 0;
    uint32_t flags = 0;
    uint32_t handle = 0;      // handle, src_handle
    uint32_t dst_handle = 0;
    uint32_t wait_id = 0;
    uint64_t point = 0;       // point, src_point
    uint64_t dst_point = 0;
    std::vector<uint64_t> points;
    std::vector<uint32_t> handles;
    // How many fds must travel with this request.
    unsigned fds_expected = 0;
};

Result<WireRequest> decode_request(const void* data, size_t size);
// Whether the op is answered with a reply message.
bool op_has_reply(uint16_t op);

} // namespace syncway::syncobj
