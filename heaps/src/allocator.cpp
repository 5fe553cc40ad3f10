#include "syncway/heaps/allocator.hpp"

#include "syncway/heaps/buffer_layout.hpp"

#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace syncway::heaps {
namespace {

std::string errno_text(int err)
{
    return std::string(std::strerror(err));
}

int ioctl_retry(int fd, unsigned long request, void* arg)
{
    int r;
    do {
        r = ::ioctl(fd, request, arg);
    } while (r < 0 && (errno == EINTR || errno == EAGAIN));
    return r;
}

std::string size_text(uint64_t size)
{
    return std::to_string(size) + " bytes";
}

Result<UniqueFd> open_device(const std::string& path, const char* what)
{
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (fd)
        return fd;
    int err = errno;
    std::string msg = std::string("cannot open ") + what + " '" + path + "': " + errno_text(err);
    if (err == EACCES || err == EPERM)
        msg += " (the user needs read-write access to it, e.g. through its group or a udev rule)";
    return make_error(err, msg);
}

// The name shows in /proc/<pid>/fdinfo and debugfs; the kernel takes at most
// DMA_BUF_NAME_LEN - 1 bytes, so longer names are cut rather than refused.
void set_dmabuf_name(int fd, const std::string& name)
{
    std::string cut = name.substr(0, DMA_BUF_NAME_LEN - 1);
    // Only for debugging: a kernel refusing the name (older ones do once the buffer is
    // attached) does not make the buffer less usable.
    (void)ioctl_retry(fd, DMA_BUF_SET_NAME, const_cast<char*>(cut.c_str()));
}

// A memfd of `size` bytes that can never shrink (so mappings of it cannot SIGBUS) nor grow, and
// that is not write-sealed (udmabuf refuses write-sealed memfds).
Result<UniqueFd> create_sealed_memfd(const std::string& name, uint64_t size)
{
    std::string memfd_name = "syncway:" + name;
    UniqueFd fd(::memfd_create(memfd_name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd)
        return make_error(errno, "memfd_create failed: " + errno_text(errno));
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
        return make_error(errno, "cannot size a memfd to " + size_text(size) + ": " + errno_text(errno));
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        return make_error(errno, "cannot seal a memfd: " + errno_text(errno));
    return fd;
}

std::string join_reasons(const std::string& a, const std::string& b)
{
    return a.empty() ? b : a + "; " + b;
}

} // namespace

const char* to_string(Backend backend)
{
    switch (backend) {
    case Backend::Heap: return "heap";
    case Backend::Udmabuf: return "udmabuf";
    case Backend::Memfd: return "memfd";
    }
    return "?";
}

const char* to_string(BackendChoice choice)
{
    switch (choice) {
    case BackendChoice::Auto: return "auto";
    case BackendChoice::Heap: return "heap";
    case BackendChoice::Udmabuf: return "udmabuf";
    case BackendChoice::Memfd: return "memfd";
    }
    return "?";
}

std::optional<BackendChoice> parse_backend_choice(std::string_view text)
{
    for (BackendChoice c : {BackendChoice::Auto, BackendChoice::Heap, BackendChoice::Udmabuf, BackendChoice::Memfd}) {
        if (text == to_string(c))
            return c;
    }
    return std::nullopt;
}

Result<Mapping> Buffer::map(int prot) const
{
    Mapping m = Mapping::map(fd.get(), size, prot, MAP_SHARED);
    if (!m)
        return make_error(errno, std::string("cannot map the ") + to_string(backend) + " buffer (" +
                                     size_text(size) + "): " + errno_text(errno));
    return m;
}

Result<uint64_t> checked_allocation_size(uint64_t size)
{
    if (size == 0)
        return make_error(EINVAL, "cannot allocate a buffer of 0 bytes");
    Result<uint64_t> aligned = page_align(size);
    if (!aligned)
        return aligned.error();
    long pages = ::sysconf(_SC_PHYS_PAGES);
    uint64_t physical = 0;
    if (pages > 0 && !__builtin_mul_overflow(static_cast<uint64_t>(pages), uint64_t{page_size()}, &physical) &&
        aligned.value() > physical)
        return make_error(ENOMEM, "cannot allocate " + size_text(size) + ": more than the machine's " +
                                      size_text(physical) + " of physical memory");
    return aligned;
}

Result<Buffer> Allocator::allocate(const AllocationRequest& request) const
{
    Result<uint64_t> size = checked_allocation_size(request.size);
    if (!size)
        return size.error();

    BackendChoice choice = request.backend;
    if (choice == BackendChoice::Auto && !request.heap_name.empty())
        choice = BackendChoice::Heap;
    switch (choice) {
    case BackendChoice::Heap: return from_heap(request, size.value());
    case BackendChoice::Udmabuf: return from_udmabuf(request, size.value());
    case BackendChoice::Memfd: return from_memfd(request, size.value());
    case BackendChoice::Auto: break;
    }

    std::string reasons;
    for (auto step : {&Allocator::from_heap, &Allocator::from_udmabuf}) {
        Result<Buffer> buffer = (this->*step)(request, size.value());
        if (buffer) {
            buffer->fallback_reason = reasons;
            return buffer;
        }
        if (buffer.error().code == ENOMEM)
            return make_error(ENOMEM, join_reasons(reasons, buffer.error().message));
        reasons = join_reasons(reasons, buffer.error().message);
    }
    Result<Buffer> buffer = from_memfd(request, size.value());
    if (!buffer)
        return make_error(buffer.error().code, join_reasons(reasons, buffer.error().message));
    buffer->fallback_reason = reasons;
    return buffer;
}

Result<Buffer> Allocator::from_heap(const AllocationRequest& request, uint64_t size) const
{
    Result<HeapCatalog> catalog = HeapCatalog::scan(paths_.heap_dir);
    if (!catalog)
        return catalog.error();
    Result<Heap> heap = request.heap_name.empty() ? catalog->choose(request.requirements)
                                                  : catalog->find(request.heap_name);
    if (!heap)
        return heap.error();

    Result<UniqueFd> dev = open_device(heap->path, "the dma-buf heap");
    if (!dev)
        return dev.error();
    dma_heap_allocation_data data{};
    data.len = size;
    data.fd_flags = O_RDWR | O_CLOEXEC;
    if (ioctl_retry(dev->get(), DMA_HEAP_IOCTL_ALLOC, &data) != 0) {
        int err = errno;
        std::string msg = "dma-buf heap '" + heap->properties.name + "' could not allocate " + size_text(size) +
                          ": " + errno_text(err);
        if (err == ENOTTY)
            msg += " ('" + heap->path + "' is not a dma-buf heap device)";
        return make_error(err, msg);
    }
    Buffer buffer;
    buffer.fd = UniqueFd(static_cast<int>(data.fd));
    buffer.backend = Backend::Heap;
    buffer.heap_name = heap->properties.name;
    buffer.size = size;
    set_dmabuf_name(buffer.fd.get(), request.debug_name);
    return buffer;
}

Result<Buffer> Allocator::from_udmabuf(const AllocationRequest& request, uint64_t size) const
{
    struct stat st {};
    if (::stat(paths_.udmabuf_device.c_str(), &st) != 0 && errno == ENOENT)
        return make_error(ENOENT, "no udmabuf: '" + paths_.udmabuf_device +
                                      "' does not exist (kernel without CONFIG_UDMABUF?)");
    Result<UniqueFd> dev = open_device(paths_.udmabuf_device, "the udmabuf device");
    if (!dev)
        return dev.error();
    Result<UniqueFd> memfd = create_sealed_memfd(request.debug_name, size);
    if (!memfd)
        return memfd.error();

    udmabuf_create create{};
    create.memfd = static_cast<uint32_t>(memfd->get());
    create.flags = UDMABUF_FLAGS_CLOEXEC;
    create.offset = 0;
    create.size = size;
    int fd;
    do {
        fd = ::ioctl(dev->get(), UDMABUF_CREATE, &create);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    if (fd < 0) {
        int err = errno;
        std::string msg = "udmabuf could not wrap " + size_text(size) + ": " + errno_text(err);
        if (err == EINVAL)
            msg += " (above the module's size_limit_mb, 64 MiB by default?)";
        else if (err == ENOTTY)
            msg += " ('" + paths_.udmabuf_device + "' is not the udmabuf device)";
        return make_error(err, msg);
    }
    // The udmabuf holds the memfd's pages; the memfd itself is no longer needed.
    Buffer buffer;
    buffer.fd = UniqueFd(fd);
    buffer.backend = Backend::Udmabuf;
    buffer.size = size;
    set_dmabuf_name(buffer.fd.get(), request.debug_name);
    return buffer;
}

Result<Buffer> Allocator::from_memfd(const AllocationRequest& request, uint64_t size) const
{
    Result<UniqueFd> memfd = create_sealed_memfd(request.debug_name, size);
    if (!memfd)
        return memfd.error();
    Buffer buffer;
    buffer.fd = std::move(memfd.value());
    buffer.backend = Backend::Memfd;
    buffer.size = size;
    return buffer;
}

std::vector<BackendStatus> Allocator::probe(const HeapRequirements& needs) const
{
    std::vector<BackendStatus> out;
    Result<HeapCatalog> catalog = HeapCatalog::scan(paths_.heap_dir);
    Result<Heap> heap = catalog ? catalog->choose(needs) : Result<Heap>(catalog.error());
    if (heap)
        out.push_back({Backend::Heap, true, "heap '" + heap->properties.name + "' (" + heap->path + ")"});
    else
        out.push_back({Backend::Heap, false, heap.error().message});

    struct stat st {};
    if (::stat(paths_.udmabuf_device.c_str(), &st) != 0)
        out.push_back({Backend::Udmabuf, false, "'" + paths_.udmabuf_device + "': " + errno_text(errno)});
    else if (::access(paths_.udmabuf_device.c_str(), R_OK | W_OK) != 0)
        out.push_back({Backend::Udmabuf, false, "'" + paths_.udmabuf_device + "': " + errno_text(errno)});
    else
        out.push_back({Backend::Udmabuf, true, paths_.udmabuf_device});

    out.push_back({Backend::Memfd, true, "memfd_create (not a dma-buf)"});
    return out;
}

} // namespace syncway::heaps
