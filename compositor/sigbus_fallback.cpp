#include "sigbus_fallback.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace syncway {

// The one piece of process-wide state: a signal handler gets no user data, so the live
// SigbusFallback and the disposition it stands in front of are reachable only from here.
struct SigbusHandler {
    static inline std::atomic<SigbusFallback*> active{nullptr};
    static inline struct sigaction previous {};
    static inline std::atomic<bool> in_place{false};  // our handler was installed (once)

    static void handle(int sig, siginfo_t* info, void* context)
    {
        const int saved_errno = errno;
        SigbusFallback* fallback = active.load(std::memory_order_acquire);
        // si_code > 0: raised by the kernel for a memory access; kill/raise/sigqueue carry no
        // faulting address worth trusting.
        bool absorbed = fallback && info && info->si_code > 0 &&
                        fallback->absorb(reinterpret_cast<uintptr_t>(info->si_addr));
        errno = saved_errno;
        if (!absorbed)
            pass_on(sig, info, context);
    }

    static void pass_on(int sig, siginfo_t* info, void* context)
    {
        if (previous.sa_flags & SA_SIGINFO) {
            if (previous.sa_sigaction) {
                previous.sa_sigaction(sig, info, context);
                return;
            }
        } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
            previous.sa_handler(sig);
            return;
        }
        // Default (ignoring a fault would only re-run the faulting instruction forever): the
        // process dies of the signal, with its core. Blocked while we run, the raised signal
        // arrives as we return.
        struct sigaction fallback_default {};
        fallback_default.sa_handler = SIG_DFL;
        sigemptyset(&fallback_default.sa_mask);
        sigaction(sig, &fallback_default, nullptr);
        raise(sig);
    }
};

SigbusFallback::SigbusFallback()
{
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        page_size_ = static_cast<uintptr_t>(page);
}

Result<std::unique_ptr<SigbusFallback>> SigbusFallback::create()
{
    std::unique_ptr<SigbusFallback> fallback(new SigbusFallback());
    SigbusFallback* expected = nullptr;
    if (!SigbusHandler::active.compare_exchange_strong(expected, fallback.get()))
        return make_error(EBUSY, "a SIGBUS fallback for client memory already exists in this process");
    return fallback;
}

SigbusFallback::~SigbusFallback()
{
    SigbusHandler::active.store(nullptr, std::memory_order_release);
    if (!installed_)
        return;
    struct sigaction current {};
    // Still ours on top: put the previous disposition back. Otherwise someone installed a
    // handler over ours and may pass faults on to it; it stays, passing everything on.
    if (sigaction(SIGBUS, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
        current.sa_sigaction == &SigbusHandler::handle) {
        sigaction(SIGBUS, &SigbusHandler::previous, nullptr);
        SigbusHandler::in_place.store(false);
    }
}

Status SigbusFallback::install()
{
    if (installed_)
        return Ok{};
    if (SigbusHandler::in_place.load()) {
        installed_ = true;  // left in place by an earlier instance, passing faults on
        return Ok{};
    }
    struct sigaction action {};
    action.sa_sigaction = &SigbusHandler::handle;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &SigbusHandler::previous) != 0)
        return make_error(errno, std::string("cannot install a SIGBUS handler: ") + std::strerror(errno));
    SigbusHandler::in_place.store(true);
    installed_ = true;
    return Ok{};
}

void SigbusFallback::clear_ranges() { ranges_.clear(); }

void SigbusFallback::add_range(const void* begin, size_t length, uint64_t owner, const void* key)
{
    auto first = reinterpret_cast<uintptr_t>(begin);
    ranges_.push_back(Range{first, first + length, owner, key, 0});
}

void SigbusFallback::drop_range(const void* key)
{
    for (Range& range : ranges_)
        if (range.key == key)
            std::atomic_ref<uintptr_t>(range.end).store(range.begin, std::memory_order_relaxed);
}

bool SigbusFallback::absorb(uintptr_t address) noexcept
{
    if (armed_.load(std::memory_order_acquire) == 0)
        return false;
    for (Range& range : ranges_) {
        uintptr_t end = std::atomic_ref<uintptr_t>(range.end).load(std::memory_order_relaxed);
        if (address < range.begin || address >= end)
            continue;
        // Whole pages: the range lies inside one mapping of the client's file (a pool maps
        // whole pages from its start, and a buffer lies inside its pool), so the pages around
        // it belong to that same mapping and are just as unreadable.
        uintptr_t first = range.begin & ~(page_size_ - 1);
        uintptr_t last = (end + page_size_ - 1) & ~(page_size_ - 1);
        void* zeros = mmap(reinterpret_cast<void*>(first), last - first, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (zeros == MAP_FAILED)
            return false;
        std::atomic_ref<int>(range.faulted).store(1, std::memory_order_relaxed);
        absorbed_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    return false;
}

std::vector<uint64_t> SigbusFallback::take_faulted()
{
    std::vector<uint64_t> owners;
    for (Range& range : ranges_) {
        if (!std::atomic_ref<int>(range.faulted).exchange(0, std::memory_order_relaxed))
            continue;
        bool seen = false;
        for (uint64_t owner : owners)
            seen = seen || owner == range.owner;
        if (!seen)
            owners.push_back(range.owner);
    }
    return owners;
}

} // namespace syncway
