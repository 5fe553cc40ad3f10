#include "syncway/heaps/fd_info.hpp"

#include "syncway/heaps/heap_name.hpp"
#include "syncway/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

namespace syncway::heaps {
namespace {

Result<std::string> read_small_file(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return make_error(errno, "cannot read '" + path + "': " + std::strerror(errno));
    std::string text;
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(errno, "cannot read '" + path + "': " + std::strerror(errno));
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

// fdinfo lines are "key:\tvalue"
bool field(std::string_view text, std::string_view key, std::string_view& value)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
            value = line.substr(key.size() + 1);
            while (!value.empty() && (value.front() == '\t' || value.front() == ' '))
                value.remove_prefix(1);
            return true;
        }
        pos = end + 1;
    }
    return false;
}

bool is_heap_exporter(std::string_view exporter)
{
    HeapProperties p = parse_heap_name(exporter);
    // A heap's exp_name is the heap's name; the names the kernel documents (and any name that
    // states a caching property) are heaps, not device drivers.
    return p.caching != Caching::Unknown || p.contiguous || p.protected_memory;
}

} // namespace

const char* to_string(FdKind kind)
{
    switch (kind) {
    case FdKind::DmaBuf: return "dma-buf";
    case FdKind::Memfd: return "memfd";
    case FdKind::Other: return "file";
    }
    return "?";
}

Result<FdInfo> inspect_fd(int fd)
{
    if (fd < 0 || ::fcntl(fd, F_GETFD) < 0)
        return make_error(EBADF, "fd " + std::to_string(fd) + " is not open");
    Result<std::string> text = read_small_file("/proc/self/fdinfo/" + std::to_string(fd));
    if (!text)
        return text.error();

    FdInfo info;
    std::string_view value;
    if (field(text.value(), "exp_name", value)) {
        info.kind = FdKind::DmaBuf;
        info.exporter = std::string(value);
        if (field(text.value(), "size", value))
            std::from_chars(value.data(), value.data() + value.size(), info.size);
        if (field(text.value(), "name", value))
            info.buffer_name = std::string(value);
        return info;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return make_error(errno, "cannot stat fd " + std::to_string(fd) + ": " + std::strerror(errno));
    info.size = st.st_size > 0 ? static_cast<uint64_t>(st.st_size) : 0;
    int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals >= 0) {
        info.kind = FdKind::Memfd;
        info.seals = seals;
    }
    return info;
}

CpuAccessPlan plan_cpu_access(const FdInfo& info)
{
    CpuAccessPlan plan;
    switch (info.kind) {
    case FdKind::Memfd:
        plan = {true, true, false, "memfd: shared system memory, coherent without sync ioctls"};
        break;
    case FdKind::Other:
        plan = {true, true, false, "a plain file: mapped like shared memory"};
        break;
    case FdKind::DmaBuf:
        if (info.exporter == "udmabuf") {
            plan = {true, true, true, "udmabuf: memfd pages, cheap to map"};
        } else if (is_heap_exporter(info.exporter)) {
            HeapProperties p = parse_heap_name(info.exporter);
            if (p.protected_memory)
                plan = {false, false, true, "heap '" + info.exporter + "' is protected: the CPU cannot read it"};
            else if (p.caching == Caching::Uncached)
                plan = {true, false, true, "heap '" + info.exporter + "' is uncached: CPU reads are slow, copy once"};
            else
                plan = {true, true, true, "heap '" + info.exporter + "': system memory, cheap to map"};
        } else {
            plan = {true, false, true,
                    "exported by '" + info.exporter + "' (device memory): mapping may be slow or refused, copy once"};
        }
        break;
    }
    return plan;
}

} // namespace syncway::heaps
