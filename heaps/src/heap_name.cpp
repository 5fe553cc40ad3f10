#include "syncway/heaps/heap_name.hpp"

#include <array>
#include <charconv>

namespace syncway::heaps {
namespace {

std::vector<std::string_view> split_words(std::string_view name)
{
    std::vector<std::string_view> words;
    size_t start = 0;
    while (start <= name.size()) {
        size_t dash = name.find('-', start);
        if (dash == std::string_view::npos)
            dash = name.size();
        words.push_back(name.substr(start, dash - start));
        start = dash + 1;
    }
    return words;
}

// Returns false when `word` is not a property word.
bool apply_property(std::string_view word, HeapProperties& p, bool& caching_conflict)
{
    auto set_caching = [&](Caching c) {
        if (p.caching != Caching::Unknown && p.caching != c)
            caching_conflict = true;
        p.caching = c;
    };
    // "uncached" is how vendor kernels spell it (`system-uncached`); the documented word is
    // "uncacheable".
    if (word == "cacheable" || word == "cached")
        set_caching(Caching::Cached);
    else if (word == "uncacheable" || word == "uncached")
        set_caching(Caching::Uncached);
    else if (word == "contiguous")
        p.contiguous = true;
    else if (word == "protected")
        p.protected_memory = true;
    else
        return false;
    return true;
}

void split_address(std::string_view region_word, HeapProperties& p)
{
    size_t at = region_word.find('@');
    if (at == std::string_view::npos) {
        p.region = std::string(region_word);
        return;
    }
    p.region = std::string(region_word.substr(0, at));
    p.address = std::string(region_word.substr(at + 1));
    uint64_t value = 0;
    const char* first = p.address.data();
    const char* last = first + p.address.size();
    auto [end, ec] = std::from_chars(first, last, value, 16);
    if (!p.address.empty() && ec == std::errc() && end == last)
        p.address_value = value;
}

struct KnownHeap {
    std::string_view name;
    Caching caching;
    bool contiguous;
    bool legacy;
};

// Names whose properties the kernel documents without spelling them in the name.
constexpr std::array known_heaps{
    KnownHeap{"system", Caching::Cached, false, false},
    KnownHeap{"default_cma_region", Caching::Cached, true, false},
    KnownHeap{"reserved", Caching::Cached, true, true},
    KnownHeap{"linux,cma", Caching::Cached, true, true},
    KnownHeap{"default-pool", Caching::Cached, true, true},
};

} // namespace

HeapProperties parse_heap_name(std::string_view name)
{
    HeapProperties p;
    p.name = std::string(name);
    for (const KnownHeap& k : known_heaps) {
        if (k.name == name) {
            p.region = std::string(name);
            p.caching = k.caching;
            p.contiguous = k.contiguous;
            p.legacy_name = k.legacy;
            return p;
        }
    }

    std::vector<std::string_view> words = split_words(name);
    // The region is the word carrying the '@address' when there is one (with any words before
    // it, as device-tree node names may contain dashes), else the first word.
    size_t region_end = 0;
    for (size_t i = 0; i < words.size(); ++i) {
        if (words[i].find('@') != std::string_view::npos) {
            region_end = i;
            break;
        }
    }
    std::string_view region_text = name.substr(0, static_cast<size_t>(words[region_end].data() - name.data()) +
                                                          words[region_end].size());
    split_address(region_text, p);

    bool caching_conflict = false;
    for (size_t i = region_end + 1; i < words.size(); ++i) {
        if (!apply_property(words[i], p, caching_conflict) && !words[i].empty())
            p.other_words.emplace_back(words[i]);
    }
    // A name claiming both is not something to trust either way.
    if (caching_conflict)
        p.caching = Caching::Unknown;
    return p;
}

const char* to_string(Caching caching)
{
    switch (caching) {
    case Caching::Cached: return "cacheable";
    case Caching::Uncached: return "uncacheable";
    case Caching::Unknown: break;
    }
    return "caching unknown";
}

std::string describe(const HeapProperties& p)
{
    std::string out = to_string(p.caching);
    out += p.contiguous ? ", contiguous" : ", not known contiguous";
    if (p.protected_memory)
        out += ", protected";
    if (!p.address.empty())
        out += ", at @" + p.address;
    for (const std::string& w : p.other_words)
        out += ", '" + w + "'";
    if (p.legacy_name)
        out += ", legacy name";
    return out;
}

} // namespace syncway::heaps
