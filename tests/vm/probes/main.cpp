// vm-kernel-probe: the VM tier's checks of the kernel facilities syncway relies on.
#include "drm_card.hpp"
#include "plane_state.hpp"
#include "probe.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace {

constexpr const char* usage =
    "usage: vm-kernel-probe COMMAND\n"
    "Checks a kernel facility the way syncway uses it; exit 0 when it behaves, 1 with the reason.\n"
    "  dma-heap                 allocate, name, map and read back a buffer from /dev/dma_heap/system\n"
    "  udmabuf                  create dma-bufs from sealed memfds via /dev/udmabuf (and the rejects)\n"
    "  sw-sync                  sw_sync fences stay unsignaled until the counter passes them\n"
    "  cpu-gather               if the CPU offers AVX2, VPGATHERDD reads the right lanes (llvmpipe needs it)\n"
    "  drm-cards [DRIVER,...]   list DRM cards; each DRIVER must drive exactly one card\n"
    "  card-for DRIVER          print the /dev/dri/cardN node of DRIVER (exit 1 if none)\n"
    "  planes DRIVER            print each plane of DRIVER's card as the kernel's debugfs atomic\n"
    "                           state has it: plane ID TYPE crtc= fb= [format= size= allocated-by=] crtc-pos=\n"
    "  plane-wait DRIVER TYPE CONDITION SECONDS\n"
    "                           wait until DRIVER's TYPE plane (primary, cursor) meets CONDITION: has-fb,\n"
    "                           no-fb, fb-not=N, moved-from=X,Y; print it; exit 1 if it did not in time\n"
    "  plane-pixel DRIVER TYPE X Y [AARRGGBB SECONDS]\n"
    "                           print the pixel (AARRGGBB) at X,Y of the framebuffer on DRIVER's TYPE plane\n"
    "                           (read through GETFB2 + MAP_DUMB or PRIME, needs root); with AARRGGBB, wait until it\n"
    "                           is that colour; exit 1 if it did not become it in time\n";

std::vector<std::string> split_commas(const char* s)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty())
            out.push_back(item);
    return out;
}

int report(const syncway::Status& s, const char* command)
{
    if (s)
        return 0;
    std::fprintf(stderr, "vm-kernel-probe %s: FAIL: %s\n", command, s.error().message.c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace syncway::vm;
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char* cmd = argv[1];
    if (!std::strcmp(cmd, "dma-heap"))
        return report(probe_dma_heap(), cmd);
    if (!std::strcmp(cmd, "udmabuf"))
        return report(probe_udmabuf(), cmd);
    if (!std::strcmp(cmd, "sw-sync"))
        return report(probe_sw_sync(), cmd);
    if (!std::strcmp(cmd, "cpu-gather"))
        return report(probe_cpu_gather(), cmd);
    if (!std::strcmp(cmd, "drm-cards"))
        return report(probe_drm_cards(argc > 2 ? split_commas(argv[2]) : std::vector<std::string>{}), cmd);
    if (!std::strcmp(cmd, "card-for") && argc == 3) {
        auto cards = list_drm_cards();
        if (!cards)
            return report(cards.error(), cmd);
        for (auto& card : *cards)
            if (card.driver == argv[2]) {
                std::printf("%s\n", card.node.c_str());
                return 0;
            }
        std::fprintf(stderr, "vm-kernel-probe: no DRM card driven by '%s'\n", argv[2]);
        return 1;
    }
    if (!std::strcmp(cmd, "planes") && argc == 3) {
        auto planes = read_plane_states(argv[2]);
        if (!planes)
            return report(planes.error(), cmd);
        for (auto& p : *planes)
            std::printf("%s\n", p.describe().c_str());
        return 0;
    }
    if (!std::strcmp(cmd, "plane-wait") && argc == 6) {
        auto waited = wait_for_plane(argv[2], argv[3], argv[4], static_cast<int>(std::atof(argv[5]) * 1000));
        if (!waited)
            return report(waited.error(), cmd);
        std::printf("%s\n", waited->plane.describe().c_str());
        return waited->met ? 0 : 1;
    }
    if (!std::strcmp(cmd, "plane-pixel") && (argc == 6 || argc == 8)) {
        std::optional<uint32_t> expect;
        if (argc == 8)
            expect = static_cast<uint32_t>(std::strtoul(argv[6], nullptr, 16));
        auto pixel = read_plane_pixel(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]), expect,
                                      argc == 8 ? static_cast<int>(std::atof(argv[7]) * 1000) : 0);
        if (!pixel)
            return report(pixel.error(), cmd);
        std::printf("%08x %s\n", pixel->argb, pixel->plane.describe().c_str());
        return pixel->met ? 0 : 1;
    }
    if (!std::strcmp(cmd, "plane-memory") && argc == 4) {
        auto memory = read_plane_memory(argv[2], argv[3]);
        if (!memory)
            return report(memory.error(), cmd);
        std::printf("%s %s\n", memory->memory.c_str(), memory->plane.describe().c_str());
        return 0;
    }
    std::fprintf(stderr, "vm-kernel-probe: unknown command '%s'\n%s", cmd, usage);
    return 2;
}
