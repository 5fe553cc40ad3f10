// /dev/udmabuf: the memfd rules (F_SEAL_SHRINK required, no F_SEAL_WRITE, page alignment) and
// that the dma-buf shares pages with the memfd in both directions.
#include "dmabuf_file.hpp"
#include "ioctl_retry.hpp"
#include "probe.hpp"

#include <syncway/mapping.hpp>
#include <syncway/unique_fd.hpp>

#include <fcntl.h>
#include <linux/udmabuf.h>
#include <sys/mman.h>

#include <cstdio>

namespace syncway::vm {

namespace {

constexpr const char* udmabuf_path = "/dev/udmabuf";
constexpr size_t memfd_size = 2 << 20;

Result<UniqueFd> sealed_memfd(unsigned seals)
{
    UniqueFd memfd(::memfd_create("syncway-vm-probe", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd)
        return sys_error("memfd_create");
    if (::ftruncate(memfd.get(), memfd_size) != 0)
        return sys_error("ftruncate of the memfd");
    if (seals && ::fcntl(memfd.get(), F_ADD_SEALS, seals) != 0)
        return sys_error("F_ADD_SEALS");
    return memfd;
}

Result<UniqueFd> create(int dev, int memfd, uint64_t offset, uint64_t size)
{
    udmabuf_create args{};
    args.memfd = static_cast<uint32_t>(memfd);
    args.flags = UDMABUF_FLAGS_CLOEXEC;
    args.offset = offset;
    args.size = size;
    int fd = ioctl_retry(dev, UDMABUF_CREATE, &args);
    if (fd < 0)
        return sys_error("UDMABUF_CREATE offset " + std::to_string(offset) + " size " + std::to_string(size));
    return UniqueFd(fd);
}

Status expect_rejected(int dev, unsigned seals, uint64_t offset, uint64_t size, const char* what)
{
    auto memfd = sealed_memfd(seals);
    if (!memfd)
        return memfd.error();
    auto r = create(dev, memfd->get(), offset, size);
    if (r.ok())
        return wrong(std::string("udmabuf accepted ") + what);
    if (r.error().code != EINVAL)
        return wrong(std::string(what) + ": " + r.error().message + ", expected EINVAL");
    std::printf("udmabuf: %s rejected with EINVAL\n", what);
    return Ok{};
}

} // namespace

Status probe_udmabuf()
{
    UniqueFd dev(::open(udmabuf_path, O_RDWR | O_CLOEXEC));
    if (!dev)
        return sys_error(std::string("open ") + udmabuf_path);

    for (auto s : {expect_rejected(dev.get(), 0, 0, 1 << 20, "a memfd without F_SEAL_SHRINK"),
                   expect_rejected(dev.get(), F_SEAL_SHRINK | F_SEAL_WRITE, 0, 1 << 20, "a memfd with F_SEAL_WRITE"),
                   expect_rejected(dev.get(), F_SEAL_SHRINK, 100, 1 << 20, "an unaligned offset"),
                   expect_rejected(dev.get(), F_SEAL_SHRINK, 0, 1000, "an unaligned size")})
        if (!s)
            return s;

    auto memfd = sealed_memfd(F_SEAL_SHRINK);
    if (!memfd)
        return memfd.error();
    // An offset into the memfd, to see that the dma-buf starts where we asked.
    constexpr size_t offset = 4096, size = 1 << 20;
    auto mem_map = Mapping::map(memfd->get(), memfd_size, PROT_READ | PROT_WRITE);
    if (!mem_map)
        return sys_error("mmap of the memfd");
    auto* mem = mem_map.as<uint8_t>() + offset;
    fill_pattern(mem, size, 0x5eed0002);

    auto buf = create(dev.get(), memfd->get(), offset, size);
    if (!buf)
        return buf.error();
    if (auto s = expect_dmabuf(buf->get(), size, "udmabuf"); !s)
        return s;
    auto buf_map = Mapping::map(buf->get(), size, PROT_READ | PROT_WRITE);
    if (!buf_map)
        return sys_error("mmap of the udmabuf");
    if (long bad = find_pattern_mismatch(buf_map.data(), size, 0x5eed0002); bad >= 0)
        return wrong("udmabuf does not show the memfd's bytes (first difference at " + std::to_string(bad) + ")");
    fill_pattern(buf_map.data(), size, 0x5eed0003);
    if (long bad = find_pattern_mismatch(mem, size, 0x5eed0003); bad >= 0)
        return wrong("a write through the udmabuf is not seen in the memfd (at " + std::to_string(bad) + ")");
    std::printf("udmabuf: %zu bytes at offset %zu of a sealed memfd, shared both ways (exporter udmabuf)\n",
                size, offset);
    return Ok{};
}

} // namespace syncway::vm
