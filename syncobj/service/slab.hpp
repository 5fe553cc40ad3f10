// Fixed-size objects carved from chunks of contiguous memory, freed cells reused. The service
// keeps the state every request reads of a timeline here, so that with many timelines those
// cache lines sit side by side (fewer pages, fewer TLB and cache misses) instead of scattered
// among the allocations of everything else.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace syncway::syncobj {

template <typename T, size_t kPerChunk = 256> class Slab {
public:
    Slab() = default;
    Slab(const Slab&) = delete;
    Slab& operator=(const Slab&) = delete;

    template <typename... Args> T* make(Args&&... args)
    {
        if (free_.empty())
            grow();
        Cell* cell = free_.back();
        T* t = new (cell->bytes) T(std::forward<Args>(args)...); // may throw: the cell stays free
        free_.pop_back();
        return t;
    }
    void destroy(T* t) noexcept
    {
        t->~T();
        free_.push_back(reinterpret_cast<Cell*>(t));
    }

private:
    struct alignas(T) Cell {
        unsigned char bytes[sizeof(T)];
    };
    void grow()
    {
        chunks_.push_back(std::make_unique<Cell[]>(kPerChunk));
        free_.reserve(free_.size() + kPerChunk);
        // Handed out in address order: timelines made one after another sit side by side.
        for (size_t i = kPerChunk; i-- > 0;)
            free_.push_back(&chunks_.back()[i]);
    }

    std::vector<std::unique_ptr<Cell[]>> chunks_;
    std::vector<Cell*> free_;
};

} // namespace syncway::syncobj
