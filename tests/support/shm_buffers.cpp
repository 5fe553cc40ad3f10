#include "syncway/testing/shm_buffers.hpp"

#include <syncway/unique_fd.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace syncway::testing {

Result<ShmBuffers> ShmBuffers::create(wl_shm* shm, int32_t width, int32_t height, int count, uint32_t pixel,
                                      uint32_t wl_shm_format)
{
    if (width <= 0 || height <= 0 || count <= 0 || int64_t{width} * height * 4 * count > INT32_MAX)
        return Error{EINVAL, "bad shm buffer size " + std::to_string(width) + "x" + std::to_string(height) + " x" +
                                 std::to_string(count)};
    const int32_t stride = width * 4, frame_bytes = stride * height, pool_bytes = frame_bytes * count;
    UniqueFd fd(memfd_create("syncway-test-shm", MFD_CLOEXEC));
    if (!fd || ftruncate(fd.get(), pool_bytes) != 0)
        return Error{errno, std::string("memfd for wl_shm buffers: ") + std::strerror(errno)};
    Mapping mapping = Mapping::map(fd.get(), size_t(pool_bytes), PROT_READ | PROT_WRITE);
    if (!mapping)
        return Error{errno, std::string("mmap of wl_shm buffers: ") + std::strerror(errno)};
    ShmBuffers buffers(width, height, std::move(mapping));
    wl_shm_pool* pool = wl_shm_create_pool(shm, fd.get(), pool_bytes);
    for (int i = 0; i < count; ++i) {
        buffers.buffers_.push_back(
            wl_shm_pool_create_buffer(pool, i * frame_bytes, width, height, stride, wl_shm_format));
        buffers.fill(i, pixel);
    }
    wl_shm_pool_destroy(pool);  // the buffers keep the pool alive in the compositor
    return buffers;
}

ShmBuffers::ShmBuffers(ShmBuffers&& other) noexcept
    : width_(other.width_), height_(other.height_), mapping_(std::move(other.mapping_)),
      buffers_(std::exchange(other.buffers_, {}))
{
}

ShmBuffers::~ShmBuffers()
{
    for (wl_buffer* buffer : buffers_)
        if (buffer)
            wl_buffer_destroy(buffer);
}

uint32_t* ShmBuffers::pixels(int index) const
{
    return mapping_.as<uint32_t>() + size_t(index) * size_t(width_) * size_t(height_);
}

void ShmBuffers::fill(int index, uint32_t pixel)
{
    uint32_t* first = pixels(index);
    std::fill(first, first + size_t(width_) * size_t(height_), pixel);
}

wl_buffer* ShmBuffers::release(int index) { return std::exchange(buffers_.at(index), nullptr); }

wl_buffer* solid_shm_buffer(wl_shm* shm, int32_t width, int32_t height, uint32_t pixel, uint32_t wl_shm_format)
{
    auto buffers = ShmBuffers::create(shm, width, height, 1, pixel, wl_shm_format);
    return buffers ? buffers->release(0) : nullptr;
}

} // namespace syncway::testing
