#include "syncway/heaps/heap_catalog.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace syncway::heaps {
namespace {

bool need_met(Need need, bool has)
{
    return need == Need::Any || (need == Need::Required) == has;
}

const char* need_word(Need need)
{
    return need == Need::Required ? "required" : need == Need::Forbidden ? "forbidden" : "any";
}

// Higher is better. Cacheable memory is what CPU rendering wants; contiguous memory (CMA) is
// scarce and only worth taking when asked for; `system` is the heap every kernel with heaps has.
int rank(const HeapProperties& p, const HeapRequirements& needs)
{
    int score = 0;
    if (p.caching == Caching::Cached)
        score += 8;
    else if (p.caching == Caching::Unknown)
        score += 4;
    if (needs.contiguous == Need::Any && !p.contiguous)
        score += 2;
    if (p.name == "system")
        score += 1;
    return score;
}

std::string list_names(const std::vector<Heap>& heaps)
{
    if (heaps.empty())
        return "none";
    std::string out;
    for (const Heap& h : heaps) {
        if (!out.empty())
            out += ", ";
        out += h.properties.name;
    }
    return out;
}

} // namespace

bool satisfies(const HeapProperties& p, const HeapRequirements& needs)
{
    // Caching must be known to satisfy a requirement either way; unknown passes only "any".
    bool cache_ok = needs.cacheable == Need::Any ||
                    (needs.cacheable == Need::Required && p.caching == Caching::Cached) ||
                    (needs.cacheable == Need::Forbidden && p.caching == Caching::Uncached);
    return cache_ok && need_met(needs.contiguous, p.contiguous) &&
           need_met(needs.protected_memory, p.protected_memory);
}

std::string describe(const HeapRequirements& needs)
{
    return std::string("cacheable ") + need_word(needs.cacheable) + ", contiguous " +
           need_word(needs.contiguous) + ", protected " + need_word(needs.protected_memory);
}

Result<HeapCatalog> HeapCatalog::scan(std::string dir)
{
    HeapCatalog catalog;
    catalog.dir_ = std::move(dir);
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(catalog.dir_.c_str()), ::closedir);
    if (!d) {
        int err = errno;
        if (err == ENOENT)
            return catalog;
        return make_error(err, "cannot read the dma-buf heap directory '" + catalog.dir_ +
                                   "': " + std::strerror(err));
    }
    catalog.exists_ = true;
    while (dirent* e = ::readdir(d.get())) {
        if (e->d_name[0] == '.')
            continue;
        std::string path = catalog.dir_ + "/" + e->d_name;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            continue; // vanished or a dangling link: not a heap we could open
        if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))
            continue;
        catalog.heaps_.push_back(Heap{parse_heap_name(e->d_name), std::move(path), S_ISCHR(st.st_mode)});
    }
    std::sort(catalog.heaps_.begin(), catalog.heaps_.end(),
              [](const Heap& a, const Heap& b) { return a.properties.name < b.properties.name; });
    return catalog;
}

Result<Heap> HeapCatalog::find(std::string_view name) const
{
    for (const Heap& h : heaps_) {
        if (h.properties.name == name)
            return h;
    }
    if (!exists_)
        return make_error(ENOENT, "no dma-buf heap named '" + std::string(name) + "': '" + dir_ +
                                      "' does not exist (kernel without CONFIG_DMABUF_HEAPS?)");
    return make_error(ENOENT, "no dma-buf heap named '" + std::string(name) + "' in '" + dir_ +
                                  "' (available: " + list_names(heaps_) + ")");
}

Result<Heap> HeapCatalog::choose(const HeapRequirements& needs) const
{
    const Heap* best = nullptr;
    for (const Heap& h : heaps_) {
        if (!satisfies(h.properties, needs))
            continue;
        // Strictly better only: ties keep the alphabetically first, so the choice is stable.
        if (!best || rank(h.properties, needs) > rank(best->properties, needs))
            best = &h;
    }
    if (best)
        return *best;
    if (!exists_)
        return make_error(ENOENT, "no dma-buf heaps: '" + dir_ +
                                      "' does not exist (kernel without CONFIG_DMABUF_HEAPS?)");
    return make_error(ENOENT, "no dma-buf heap in '" + dir_ + "' meets (" + describe(needs) +
                                  "); available: " + list_names(heaps_));
}

} // namespace syncway::heaps
