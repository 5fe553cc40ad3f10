// syncway-heaps: list the dma-buf heaps and what the allocator would choose; try an allocation.
#include "syncway/heaps/allocator.hpp"
#include "syncway/heaps/buffer_layout.hpp"
#include "syncway/heaps/cpu_access.hpp"
#include "syncway/heaps/fd_info.hpp"
#include "syncway/heaps/heap_catalog.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

using namespace syncway::heaps;

namespace {

constexpr const char* usage_text = R"(Usage: syncway-heaps COMMAND [OPTIONS]

Commands:
  list      List the dma-buf heaps, their properties (read from their names), and which
            backend and heap an allocation would use.
  alloc     Allocate one buffer, map it, write and read it back, and report what was
            obtained (backend, heap, exporter from /proc/self/fdinfo). The buffer is freed.
  help      Show this text.

Options (both commands):
  --dir DIR          heap directory (default /dev/dma_heap)
  --udmabuf PATH     udmabuf device (default /dev/udmabuf)
  --cacheable        need a heap whose name says cacheable   (--uncacheable: the opposite)
  --contiguous       need physically contiguous memory       (--not-contiguous: the opposite)
  --protected        need protected memory (the default refuses it: the CPU cannot map it)

Options (alloc):
  --backend B        auto (default: heap, then udmabuf, then memfd), heap, udmabuf or memfd;
                     a forced backend that is unavailable is an error
  --heap NAME        allocate from this heap (implies --backend heap)
  --size N           bytes, with an optional K, M or G suffix (binary units)
  --format F --width W --height H
                     size for an image: F is XRGB8888, ARGB8888, XBGR8888, ABGR8888,
                     RGB565 or RGB888; rows aligned to 64 bytes, size to whole pages
  --name NAME        debug name (DMA_BUF_SET_NAME; shown in fdinfo), default syncway-heaps

Exit status: 0 success, 1 the operation failed, 2 bad usage.
)";

struct Options {
    std::string command;
    AllocatorPaths paths;
    HeapRequirements needs;
    BackendChoice backend = BackendChoice::Auto;
    std::string heap;
    std::string name = "syncway-heaps";
    uint64_t size = 0;
    bool size_given = false;
    std::string format;
    uint32_t width = 0, height = 0;
};

int usage_error(const std::string& message)
{
    std::fprintf(stderr, "syncway-heaps: %s\nTry 'syncway-heaps --help'.\n", message.c_str());
    return 2;
}

template <typename T> bool parse_number(std::string_view text, T& out)
{
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool parse_size(std::string_view text, uint64_t& out)
{
    uint64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 'K': unit = 1ull << 10; break;
        case 'M': unit = 1ull << 20; break;
        case 'G': unit = 1ull << 30; break;
        default: break;
        }
        if (unit != 1)
            text.remove_suffix(1);
    }
    uint64_t n = 0;
    return parse_number(text, n) && !__builtin_mul_overflow(n, unit, &out);
}

// 0 when parsed, else the exit status
int parse(int argc, char** argv, Options& o)
{
    if (argc < 2)
        return usage_error("missing command (list, alloc or help)");
    o.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view& v) {
            if (i + 1 >= argc)
                return false;
            v = argv[++i];
            return true;
        };
        std::string_view v;
        if (a == "--cacheable")
            o.needs.cacheable = Need::Required;
        else if (a == "--uncacheable")
            o.needs.cacheable = Need::Forbidden;
        else if (a == "--contiguous")
            o.needs.contiguous = Need::Required;
        else if (a == "--not-contiguous")
            o.needs.contiguous = Need::Forbidden;
        else if (a == "--protected")
            o.needs.protected_memory = Need::Required;
        else if (a == "--help" || a == "-h")
            o.command = "help";
        else if (a == "--dir" || a == "--udmabuf" || a == "--backend" || a == "--heap" || a == "--size" ||
                 a == "--format" || a == "--width" || a == "--height" || a == "--name") {
            if (!value(v))
                return usage_error(std::string(a) + " needs a value");
            if (a == "--dir")
                o.paths.heap_dir = v;
            else if (a == "--udmabuf")
                o.paths.udmabuf_device = v;
            else if (a == "--heap")
                o.heap = v;
            else if (a == "--name")
                o.name = v;
            else if (a == "--format")
                o.format = v;
            else if (a == "--backend") {
                auto b = parse_backend_choice(v);
                if (!b)
                    return usage_error("unknown backend '" + std::string(v) + "' (auto, heap, udmabuf, memfd)");
                o.backend = *b;
            } else if (a == "--size") {
                if (!parse_size(v, o.size))
                    return usage_error("bad size '" + std::string(v) + "' (bytes, optional K/M/G suffix)");
                o.size_given = true;
            } else if (!parse_number(v, a == "--width" ? o.width : o.height)) {
                return usage_error("bad " + std::string(a.substr(2)) + " '" + std::string(v) + "'");
            }
        } else {
            return usage_error("unknown option '" + std::string(a) + "'");
        }
    }
    return 0;
}

int list(const Options& o)
{
    Allocator allocator(o.paths);
    syncway::Result<HeapCatalog> catalog = HeapCatalog::scan(o.paths.heap_dir);
    if (!catalog) {
        std::fprintf(stderr, "syncway-heaps: %s\n", catalog.error().message.c_str());
        return 1;
    }
    std::printf("dma-buf heaps in %s:\n", catalog->directory().c_str());
    if (!catalog->exists())
        std::printf("  (none: the directory does not exist; kernel without CONFIG_DMABUF_HEAPS?)\n");
    else if (catalog->heaps().empty())
        std::printf("  (none)\n");
    for (const Heap& h : catalog->heaps())
        std::printf("  %-24s %s%s\n", h.properties.name.c_str(), describe(h.properties).c_str(),
                    h.is_device ? "" : "  [not a character device]");
    std::printf("requirements: %s\n", describe(o.needs).c_str());
    std::printf("backends, in the order 'auto' tries them:\n");
    const char* chosen = nullptr;
    for (const BackendStatus& s : allocator.probe(o.needs)) {
        std::printf("  %-8s %-11s %s\n", to_string(s.backend), s.available ? "available" : "unavailable",
                    s.detail.c_str());
        if (s.available && !chosen)
            chosen = to_string(s.backend);
    }
    std::printf("would allocate from: %s\n", chosen ? chosen : "nothing");
    return 0;
}

int alloc(const Options& o)
{
    AllocationRequest request;
    request.backend = o.backend;
    request.heap_name = o.heap;
    request.requirements = o.needs;
    request.debug_name = o.name;
    request.size = o.size;
    if (!o.format.empty() || o.width || o.height) {
        if (o.size_given)
            return usage_error("give either --size or --format/--width/--height, not both");
        const FormatInfo* f = find_format(o.format);
        if (!f)
            return usage_error("unknown format '" + o.format + "'");
        auto layout = compute_layout(static_cast<uint32_t>(f->format), o.width, o.height);
        if (!layout) {
            std::fprintf(stderr, "syncway-heaps: %s\n", layout.error().message.c_str());
            return 1;
        }
        std::printf("layout: %s %ux%u, stride %u, %llu bytes of pixels\n", std::string(f->name).c_str(), o.width,
                    o.height, layout->stride, static_cast<unsigned long long>(layout->data_size));
        request.size = layout->alloc_size;
    } else if (!o.size_given) {
        return usage_error("alloc needs --size or --format/--width/--height");
    }

    Allocator allocator(o.paths);
    syncway::Result<Buffer> buffer = allocator.allocate(request);
    if (!buffer) {
        std::fprintf(stderr, "syncway-heaps: allocation failed: %s\n", buffer.error().message.c_str());
        return 1;
    }
    std::printf("backend: %s%s%s\n", to_string(buffer->backend), buffer->heap_name.empty() ? "" : " ",
                buffer->heap_name.c_str());
    std::printf("size: %llu bytes\n", static_cast<unsigned long long>(buffer->size));
    if (!buffer->fallback_reason.empty())
        std::printf("fell back because: %s\n", buffer->fallback_reason.c_str());

    syncway::Result<FdInfo> info = inspect_fd(buffer->fd.get());
    if (!info) {
        std::fprintf(stderr, "syncway-heaps: %s\n", info.error().message.c_str());
        return 1;
    }
    std::printf("fdinfo: %s, size %llu%s%s%s%s\n", to_string(info->kind), static_cast<unsigned long long>(info->size),
                info->exporter.empty() ? "" : ", exporter ", info->exporter.c_str(),
                info->buffer_name.empty() ? "" : ", name ", info->buffer_name.c_str());
    std::printf("cpu access: %s\n", plan_cpu_access(info.value()).reason.c_str());

    auto mapping = buffer->map();
    if (!mapping) {
        std::fprintf(stderr, "syncway-heaps: %s\n", mapping.error().message.c_str());
        return 1;
    }
    {
        auto access = CpuAccess::begin(buffer->fd.get(), Access::ReadWrite);
        if (!access) {
            std::fprintf(stderr, "syncway-heaps: %s\n", access.error().message.c_str());
            return 1;
        }
        auto* bytes = mapping->as<unsigned char>();
        for (uint64_t i = 0; i < buffer->size; i += 4096)
            bytes[i] = static_cast<unsigned char>(i / 4096 + 1);
        for (uint64_t i = 0; i < buffer->size; i += 4096) {
            if (bytes[i] != static_cast<unsigned char>(i / 4096 + 1)) {
                std::fprintf(stderr, "syncway-heaps: read back a different byte at offset %llu\n",
                             static_cast<unsigned long long>(i));
                return 1;
            }
        }
        std::printf("mapped, wrote and read back every page (%s)\n",
                    access->bracketed() ? "inside DMA_BUF_IOCTL_SYNC" : "no sync bracket needed");
        auto ended = access->end();
        if (!ended) {
            std::fprintf(stderr, "syncway-heaps: %s\n", ended.error().message.c_str());
            return 1;
        }
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    if (int status = parse(argc, argv, o))
        return status;
    if (o.command == "help" || o.command == "--help" || o.command == "-h") {
        std::fputs(usage_text, stdout);
        return 0;
    }
    if (o.command == "list")
        return list(o);
    if (o.command == "alloc")
        return alloc(o);
    return usage_error("unknown command '" + o.command + "'");
}
