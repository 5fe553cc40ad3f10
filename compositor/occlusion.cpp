#include "occlusion.hpp"

namespace syncway {

void Region::add_translated(const pixman_region32_t* other, int dx, int dy)
{
    Region moved;
    pixman_region32_copy(moved.get(), const_cast<pixman_region32_t*>(other));
    pixman_region32_translate(moved.get(), dx, dy);
    pixman_region32_union(&region_, &region_, moved.get());
}

std::vector<bool> covered_windows(std::span<const WindowRegions> top_to_bottom)
{
    std::vector<bool> covered;
    covered.reserve(top_to_bottom.size());
    Region above;  // opaque parts of the windows seen so far
    Region uncovered;
    for (const WindowRegions& window : top_to_bottom) {
        pixman_region32_subtract(uncovered.get(), const_cast<pixman_region32_t*>(window.extent->get()),
                                 above.get());
        covered.push_back(!pixman_region32_not_empty(uncovered.get()));
        pixman_region32_union(above.get(), above.get(), const_cast<pixman_region32_t*>(window.opaque->get()));
    }
    return covered;
}

} // namespace syncway
