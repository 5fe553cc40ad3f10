// /dev/dma_heap/system: argument checks, allocation, naming, CPU access brackets, content.
#include "dmabuf_file.hpp"
#include "ioctl_retry.hpp"
#include "probe.hpp"

#include <syncway/mapping.hpp>
#include <syncway/unique_fd.hpp>

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

#include <cstdio>

namespace syncway::vm {

namespace {

constexpr const char* heap_path = "/dev/dma_heap/system";

Result<UniqueFd> allocate(int heap, uint64_t len, uint32_t fd_flags, uint64_t heap_flags)
{
    dma_heap_allocation_data data{};
    data.len = len;
    data.fd_flags = fd_flags;
    data.heap_flags = heap_flags;
    if (ioctl_retry(heap, DMA_HEAP_IOCTL_ALLOC, &data) != 0)
        return sys_error("DMA_HEAP_IOCTL_ALLOC len " + std::to_string(len));
    return UniqueFd(static_cast<int>(data.fd));
}

Status expect_rejected(int heap, uint64_t len, uint32_t fd_flags, uint64_t heap_flags, const char* what)
{
    auto r = allocate(heap, len, fd_flags, heap_flags);
    if (r.ok())
        return wrong(std::string("the heap accepted ") + what);
    if (r.error().code != EINVAL)
        return wrong(std::string(what) + " failed with " + r.error().message + ", expected EINVAL");
    std::printf("dma-heap: %s rejected with EINVAL\n", what);
    return Ok{};
}

Status cpu_sync(int buf, uint64_t flags)
{
    dma_buf_sync sync{flags};
    if (ioctl_retry(buf, DMA_BUF_IOCTL_SYNC, &sync) != 0)
        return sys_error("DMA_BUF_IOCTL_SYNC");
    return Ok{};
}

} // namespace

Status probe_dma_heap()
{
    UniqueFd heap(::open(heap_path, O_RDONLY | O_CLOEXEC));
    if (!heap)
        return sys_error(std::string("open ") + heap_path);

    for (auto s : {expect_rejected(heap.get(), 0, O_RDWR | O_CLOEXEC, 0, "a zero length"),
                   expect_rejected(heap.get(), 4096, O_RDWR | O_CLOEXEC, 1, "heap_flags 1"),
                   expect_rejected(heap.get(), 4096, O_RDWR | O_NONBLOCK, 0, "fd_flags O_NONBLOCK")})
        if (!s)
            return s;

    // One 1080p XRGB8888 frame, the size syncway's clients allocate.
    constexpr size_t size = 1920 * 1080 * 4;
    auto buf = allocate(heap.get(), size, O_RDWR | O_CLOEXEC, 0);
    if (!buf)
        return buf.error();
    int fd = buf->get();
    if (auto s = expect_dmabuf(fd, size, "system"); !s)
        return s;
    const char name[] = "syncway-vm-probe";
    if (ioctl_retry(fd, DMA_BUF_SET_NAME, const_cast<char*>(name)) != 0)
        return sys_error("DMA_BUF_SET_NAME");
    if (auto got = fdinfo_field(fd, "name"); got != name)
        return wrong("fdinfo name is '" + got + "' after DMA_BUF_SET_NAME '" + name + "'");

    {
        auto map = Mapping::map(fd, size, PROT_READ | PROT_WRITE);
        if (!map)
            return sys_error("mmap of the heap buffer");
        if (auto s = cpu_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE); !s)
            return s;
        fill_pattern(map.data(), size, 0x5eed0001);
        if (auto s = cpu_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE); !s)
            return s;
    }
    // A fresh mapping must see what the first one wrote: the pages are the buffer's, not copies.
    auto map = Mapping::map(fd, size, PROT_READ);
    if (!map)
        return sys_error("second mmap of the heap buffer");
    if (auto s = cpu_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ); !s)
        return s;
    long bad = find_pattern_mismatch(map.data(), size, 0x5eed0001);
    if (auto s = cpu_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ); !s)
        return s;
    if (bad >= 0)
        return wrong("heap buffer content differs at byte " + std::to_string(bad) + " in a second mapping");
    std::printf("dma-heap: %zu-byte buffer from %s (exporter system, name %s) mapped, written, read back\n",
                size, heap_path, name);
    return Ok{};
}

} // namespace syncway::vm
