// Something waiting for a timeline point. A waiter is first parked on its timeline until the
// point is submitted (kernel WAIT_FOR_SUBMIT; re-checked on every new point), then attached to
// the fence chain that was current at that moment, like the kernel's snapshot of the fence.
// Owned by whoever created it; destroying it cancels the wait.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

namespace syncway::syncobj::core {

class Chain;
class Timeline;

// Flags shared with the kernel's DRM_SYNCOBJ_WAIT_FLAGS_*.
inline constexpr uint32_t kWaitAll = 1u << 0;
inline constexpr uint32_t kWaitForSubmit = 1u << 1;
inline constexpr uint32_t kWaitAvailable = 1u << 2;
inline constexpr uint32_t kWaitDeadline = 1u << 3;

class Waiter {
public:
    Waiter() = default;
    virtual ~Waiter() { cancel(); }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    void cancel() noexcept;
    bool parked() const noexcept { return where_ != Where::None; }

protected:
    // Called once, when the point resolves (0 or the fence's errno) or, with kWaitAvailable,
    // when it is submitted. The waiter is already detached: it may destroy itself here.
    virtual void resolved(int error) = 0;
    // The timeline died before the point was submitted: freed silently, as the kernel frees
    // eventfd entries with their syncobj. Detached already.
    virtual void dropped() {}

private:
    friend class Chain;
    friend class Timeline;
    using Slot = std::multimap<uint64_t, Waiter*>::iterator;
    enum class Where { None, Timeline, Chain };

    Where where_ = Where::None;
    uint64_t point_ = 0;
    uint32_t flags_ = 0;
    Timeline* timeline_ = nullptr;  // while parked for submission
    std::shared_ptr<Chain> chain_;  // while attached: keeps the snapshot alive
    Slot slot_{};
};

} // namespace syncway::syncobj::core
