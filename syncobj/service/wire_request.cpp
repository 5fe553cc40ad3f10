#include "wire_request.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway::syncobj {

namespace {

template <typename T> bool read_exact(const void* data, size_t size, T& out)
{
    if (size != sizeof(T))
        return false;
    std::memcpy(&out, data, sizeof(T));
    return true;
}

Error size_error(uint16_t op, size_t size)
{
    return make_error(EINVAL, "request op " + std::to_string(op) + " has a bad size (" +
                                  std::to_string(size) + " bytes)");
}

// Arrays follow the fixed part: uint64 points (if with_points), then uint32 handles.
Status read_arrays(const uint8_t* bytes, size_t size, size_t fixed, uint32_t count,
                   bool with_points, WireRequest& req)
{
    if (count == 0)
        return make_error(EINVAL, "count is 0");
    if (count > SYNCOBJ_WIRE_MAX_COUNT)
        return make_error(EINVAL, "count " + std::to_string(count) + " exceeds the limit of " +
                                      std::to_string(SYNCOBJ_WIRE_MAX_COUNT));
    size_t need = fixed + count * sizeof(uint32_t) + (with_points ? count * sizeof(uint64_t) : 0);
    if (size != need)
        return size_error(req.op, size);
    const uint8_t* p = bytes + fixed;
    if (with_points) {
        req.points.resize(count);
        std::memcpy(req.points.data(), p, count * sizeof(uint64_t));
        p += count * sizeof(uint64_t);
    }
    req.handles.resize(count);
    std::memcpy(req.handles.data(), p, count * sizeof(uint32_t));
    return Ok{};
}

} // namespace

bool op_has_reply(uint16_t op)
{
    return op != SYNCOBJ_OP_CLOSE_HANDLE && op != SYNCOBJ_OP_SIGNALER_SIGNAL &&
           op != SYNCOBJ_OP_CANCEL_WAIT;
}

Result<WireRequest> decode_request(const void* data, size_t size)
{
    syncobj_wire_header hdr{};
    if (size < sizeof hdr)
        return make_error(EINVAL, "request shorter than its header (" + std::to_string(size) + " bytes)");
    std::memcpy(&hdr, data, sizeof hdr);
    if (hdr.pad != 0)
        return make_error(EINVAL, "request header pad is not 0");
    const auto* bytes = static_cast<const uint8_t*>(data);
    WireRequest req;
    req.op = hdr.op;
    switch (hdr.op) {
    case SYNCOBJ_OP_HELLO:
        if (size != sizeof hdr)
            return size_error(hdr.op, size);
        break;
    case SYNCOBJ_OP_CREATE: {
        syncobj_wire_create m{};
        if (!read_exact(data, size, m))
            return size_error(hdr.op, size);
        req.flags = m.flags;
        break;
    }
    case SYNCOBJ_OP_IMPORT:
        if (size != sizeof hdr)
            return size_error(hdr.op, size);
        req.fds_expected = 1;
        break;
    case SYNCOBJ_OP_CLOSE_HANDLE:
    case SYNCOBJ_OP_SIGNALER_SIGNAL: {
        syncobj_wire_handle m{};
        if (!read_exact(data, size, m))
            return size_error(hdr.op, size);
        req.handle = m.handle;
        break;
    }
    case SYNCOBJ_OP_SUBMIT:
    case SYNCOBJ_OP_EXPORT_SYNC_FILE:
    case SYNCOBJ_OP_IMPORT_SYNC_FILE:
    case SYNCOBJ_OP_POINT_STATE: {
        syncobj_wire_point m{};
        if (!read_exact(data, size, m))
            return size_error(hdr.op, size);
        req.handle = m.handle;
        req.point = m.point;
        req.fds_expected = hdr.op == SYNCOBJ_OP_IMPORT_SYNC_FILE || hdr.op == SYNCOBJ_OP_SUBMIT ? 1 : 0;
        break;
    }
    case SYNCOBJ_OP_SIGNAL:
    case SYNCOBJ_OP_RESET:
    case SYNCOBJ_OP_QUERY: {
        syncobj_wire_array m{};
        if (size < sizeof m)
            return size_error(hdr.op, size);
        std::memcpy(&m, data, sizeof m);
        if (m.pad != 0)
            return make_error(EINVAL, "array pad is not 0");
        req.flags = m.flags;
        auto st = read_arrays(bytes, size, sizeof m, m.count, hdr.op == SYNCOBJ_OP_SIGNAL, req);
        if (!st)
            return st.error();
        break;
    }
    case SYNCOBJ_OP_WAIT: {
        syncobj_wire_wait m{};
        if (size < sizeof m)
            return size_error(hdr.op, size);
        std::memcpy(&m, data, sizeof m);
        req.flags = m.flags;
        req.wait_id = m.wait_id;
        auto st = read_arrays(bytes, size, sizeof m, m.count, true, req);
        if (!st)
            return st.error();
        req.fds_expected = (m.flags & SYNCOBJ_WIRE_WAIT_POLL_ONLY) ? 0 : 1;
        break;
    }
    case SYNCOBJ_OP_CANCEL_WAIT: {
        syncobj_wire_cancel m{};
        if (!read_exact(data, size, m))
            return size_error(hdr.op, size);
        req.wait_id = m.wait_id;
        break;
    }
    case SYNCOBJ_OP_EVENTFD: {
        syncobj_wire_eventfd m{};
        if (!read_exact(data, size, m))
            return size_error(hdr.op, size);
        if (m.pad != 0)
            return make_error(EINVAL, "eventfd request pad is not 0");
        req.handle = m.handle;
        req.point = m.point;
        req.flags = m.flags;
        req.fds_expected = 1;
        break;
    }
    case SYNCOBJ_OP_TRANSFER: {
        syncobj_wire_transfer m{};
        if (!read_exact(data, size, m))
            return size_error(hdr.op, size);
        req.handle = m.src_handle;
        req.dst_handle = m.dst_handle;
        req.flags = m.flags;
        req.point = m.src_point;
        req.dst_point = m.dst_point;
        break;
    }
    default:
        return make_error(EINVAL, "unknown request op " + std::to_string(hdr.op));
    }
    return req;
}

} // namespace syncway::syncobj
