// The handles of one connection: a flat table indexed by the handle's low bits, so resolving a
// handle reads one 16-byte slot of contiguous memory (a hash map costs a bucket and a node,
// two cache misses once a connection has thousands of timelines). What requests read (Hot, a
// pointer) is kept apart from what only creating and closing handles touch (Cold, e.g. the
// owning reference), so four slots share a cache line. The high bits carry the slot's
// generation: a handle closed and its slot reused does not name the new object. A slot whose
// generation would wrap is never reused, so no handle is ever issued twice.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace syncway::syncobj {

template <typename Hot, typename Cold> class HandleTable {
public:
    static constexpr uint32_t kIndexBits = 20; // up to 1 048 575 handles per connection
    static constexpr uint32_t kLastGeneration = (1u << (32 - kIndexBits)) - 1;
    static constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
    // Slot 0 is never used, so no handle is 0.
    static constexpr uint32_t kCapacity = kIndexMask;

    size_t size() const noexcept { return live_; }

    Hot* find(uint32_t handle) noexcept
    {
        uint32_t index = handle & kIndexMask;
        if (index >= slots_.size())
            return nullptr;
        Slot& s = slots_[index];
        return s.live && s.generation == handle >> kIndexBits ? &s.hot : nullptr;
    }
    // For a handle find() accepts.
    Cold& cold(uint32_t handle) noexcept { return cold_[handle & kIndexMask]; }
    void prefetch(uint32_t handle) const noexcept
    {
        uint32_t index = handle & kIndexMask;
        if (index < slots_.size())
            __builtin_prefetch(&slots_[index]);
    }

    // The new handle, or 0 when all kCapacity slots are live.
    uint32_t insert(Hot hot, Cold cold)
    {
        uint32_t index;
        if (!free_.empty()) {
            // Oldest freed first: a slot comes back only after every other free one, which
            // keeps its generation from wrapping soon after a close.
            index = free_.front();
            free_.pop_front();
        } else {
            if (slots_.empty()) { // slot 0: no handle is 0
                slots_.emplace_back();
                cold_.emplace_back();
            }
            if (slots_.size() > kCapacity)
                return 0;
            index = static_cast<uint32_t>(slots_.size());
            slots_.emplace_back();
            cold_.emplace_back();
        }
        Slot& s = slots_[index];
        s.hot = std::move(hot);
        s.live = true;
        cold_[index] = std::move(cold);
        live_++;
        return (static_cast<uint32_t>(s.generation) << kIndexBits) | index;
    }

    bool erase(uint32_t handle)
    {
        if (!find(handle))
            return false;
        release(handle & kIndexMask);
        return true;
    }

    // Erases every live entry for which pred(hot, cold) is true.
    template <typename Pred> void erase_if(Pred pred)
    {
        for (uint32_t i = 1; i < slots_.size(); i++)
            if (slots_[i].live && pred(slots_[i].hot, cold_[i]))
                release(i);
    }

private:
    struct Slot {
        Hot hot{};
        uint16_t generation = 0; // the handle's high bits
        bool live = false;
    };
    void release(uint32_t index)
    {
        Slot& s = slots_[index];
        s.hot = Hot{};
        s.live = false;
        cold_[index] = Cold{};
        live_--;
        if (s.generation == kLastGeneration)
            return; // spent: 16 bytes kept per 4 096 handles closed on this slot
        s.generation++;
        free_.push_back(index);
    }

    std::vector<Slot> slots_;
    std::vector<Cold> cold_;
    std::deque<uint32_t> free_;
    size_t live_ = 0;
};

} // namespace syncway::syncobj
