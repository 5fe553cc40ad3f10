// wl_shm buffers of one size in one memfd pool, mapped for the client to draw into.
#pragma once

#include <syncway/mapping.hpp>
#include <syncway/result.hpp>

#include <wayland-client.h>

#include <cstdint>
#include <vector>

namespace syncway::testing {

class ShmBuffers {
public:
    // `count` buffers of width x height in wl_shm_format (4 bytes per pixel: XRGB8888 or
    // ARGB8888), each filled with `pixel`.
    static Result<ShmBuffers> create(wl_shm* shm, int32_t width, int32_t height, int count, uint32_t pixel,
                                     uint32_t wl_shm_format = WL_SHM_FORMAT_XRGB8888);
    ShmBuffers(ShmBuffers&& other) noexcept;
    ShmBuffers& operator=(ShmBuffers&&) = delete;
    ShmBuffers(const ShmBuffers&) = delete;
    ~ShmBuffers();

    int count() const { return static_cast<int>(buffers_.size()); }
    wl_buffer* get(int index) const { return buffers_.at(index); }
    int32_t width() const { return width_; }
    int32_t height() const { return height_; }
    // Buffer `index`'s pixels, width * height of them, rows packed.
    uint32_t* pixels(int index) const;
    void fill(int index, uint32_t pixel);
    // Gives up the wl_buffer (the caller destroys it); the pool's memory stays mapped.
    wl_buffer* release(int index);

private:
    ShmBuffers(int32_t width, int32_t height, Mapping mapping)
        : width_(width), height_(height), mapping_(std::move(mapping))
    {
    }
    int32_t width_, height_;
    Mapping mapping_;
    std::vector<wl_buffer*> buffers_;
};

// One wl_buffer of one colour whose memory is gone from the client (the compositor keeps the
// pool alive); the caller destroys the buffer. Null on failure.
wl_buffer* solid_shm_buffer(wl_shm* shm, int32_t width, int32_t height, uint32_t pixel,
                            uint32_t wl_shm_format = WL_SHM_FORMAT_XRGB8888);

} // namespace syncway::testing
