// Survives reads of client memory whose file was shrunk under us. A wl_shm pool is a shared
// mapping of a file the client owns; once the client truncates that file, every read of the
// mapping past the file's new end raises SIGBUS, which kills the process by default. While
// armed, the handler here replaces the faulting client range with zero-filled anonymous pages
// (the read then completes, showing black), remembers whose range it was, and lets the code go
// on; the caller disconnects that client afterwards. Faults anywhere else, or while not armed,
// go to the disposition that was in place before (e.g. libwayland's own guard for the reads it
// brackets, or the default: a core dump).
//
// No wlroots and no Wayland here: ranges are plain addresses with an opaque owner and key.
#pragma once

#include <syncway/result.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace syncway {

class SigbusFallback {
public:
    // At most one per process (EBUSY otherwise): a signal handler finds its state only through
    // one process-wide pointer.
    static Result<std::unique_ptr<SigbusFallback>> create();
    // Stops absorbing; restores the previous disposition if ours is still the installed one.
    ~SigbusFallback();
    SigbusFallback(const SigbusFallback&) = delete;
    SigbusFallback& operator=(const SigbusFallback&) = delete;

    // Puts the handler in front of the SIGBUS disposition in place now, which then receives
    // every fault this one does not absorb. Once is enough; later calls do nothing.
    Status install();
    bool installed() const { return installed_; }

    // The ranges reads may fault in while armed. Set only while not armed: the handler reads
    // this storage, so it never changes under it (capacity grows here, not in the handler).
    void clear_ranges();
    void add_range(const void* begin, size_t length, uint64_t owner, const void* key);
    // The memory of `key` is going away (unmapped) now: its range no longer counts. Allowed
    // while armed (a single store).
    void drop_range(const void* key);

    // Absorbs faults in the ranges while the returned object lives. Nests.
    class Armed {
    public:
        explicit Armed(SigbusFallback* fallback) : fallback_(fallback) { fallback_->armed_.fetch_add(1); }
        ~Armed()
        {
            if (fallback_)
                fallback_->armed_.fetch_sub(1);
        }
        Armed(Armed&& other) noexcept : fallback_(std::exchange(other.fallback_, nullptr)) {}
        Armed(const Armed&) = delete;
        Armed& operator=(const Armed&) = delete;

    private:
        SigbusFallback* fallback_;
    };
    Armed arm() { return Armed(this); }

    // Owners of the ranges that faulted since the last call, each once.
    std::vector<uint64_t> take_faulted();
    // Faults absorbed since creation.
    uint64_t absorbed() const { return absorbed_.load(std::memory_order_relaxed); }

private:
    SigbusFallback();
    friend struct SigbusHandler;
    // In the signal handler: true if `address` is in a range (now backed by zero pages).
    bool absorb(uintptr_t address) noexcept;

    struct Range {
        uintptr_t begin = 0, end = 0;
        uint64_t owner = 0;
        const void* key = nullptr;
        int faulted = 0;  // written by the handler
    };
    std::vector<Range> ranges_;
    std::atomic<int> armed_{0};
    std::atomic<uint64_t> absorbed_{0};
    uintptr_t page_size_ = 4096;
    bool installed_ = false;
};

} // namespace syncway
