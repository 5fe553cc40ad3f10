// The DRM cards of the VM, identified by driver name: each expected driver drives exactly one
// card; KMS drivers among them (vkms, virtio_gpu) offer a cursor plane, which the cursor checks
// rely on; vgem offers no KMS.
#include "drm_card.hpp"
#include "probe.hpp"

#include <algorithm>
#include <cstdio>

namespace syncway::vm {

Status probe_drm_cards(const std::vector<std::string>& expected)
{
    auto cards = list_drm_cards();
    if (!cards)
        return cards.error();
    for (auto& card : *cards)
        std::printf("%s\n", card.describe().c_str());
    for (auto& driver : expected) {
        auto n = std::count_if(cards->begin(), cards->end(), [&](auto& c) { return c.driver == driver; });
        if (n != 1)
            return wrong("driver " + driver + " drives " + std::to_string(n) + " cards, expected 1");
        auto& card = *std::find_if(cards->begin(), cards->end(), [&](auto& c) { return c.driver == driver; });
        bool display = driver == "vkms" || driver == "virtio_gpu";
        if (display && (!card.kms || card.cursor_planes < 1 || card.primary_planes < 1 || card.connectors.empty()))
            return wrong(card.node + " (" + driver + ") should be KMS with a primary and a cursor plane and a connector");
        if (driver == "vgem" && card.kms)
            return wrong(card.node + " (vgem) unexpectedly offers KMS");
    }
    return Ok{};
}

} // namespace syncway::vm
