#include "syncway/heaps/heap_name.hpp"

#include <gtest/gtest.h>

using namespace syncway::heaps;

TEST(HeapName, SystemIsCacheableAndNotContiguous)
{
    HeapProperties p = parse_heap_name("system");
    EXPECT_EQ(p.region, "system");
    EXPECT_EQ(p.caching, Caching::Cached);
    EXPECT_FALSE(p.contiguous);
    EXPECT_FALSE(p.protected_memory);
    EXPECT_FALSE(p.legacy_name);
}

TEST(HeapName, SystemUncachedIsUncacheable)
{
    HeapProperties p = parse_heap_name("system-uncached");
    EXPECT_EQ(p.region, "system");
    EXPECT_EQ(p.caching, Caching::Uncached);
    EXPECT_FALSE(p.contiguous);
    EXPECT_TRUE(p.other_words.empty());
}

TEST(HeapName, CmaNamesAreContiguousAndCacheable)
{
    for (const char* name : {"default_cma_region", "reserved", "linux,cma", "default-pool"}) {
        SCOPED_TRACE(name);
        HeapProperties p = parse_heap_name(name);
        EXPECT_EQ(p.region, name);
        EXPECT_TRUE(p.contiguous);
        EXPECT_EQ(p.caching, Caching::Cached);
        EXPECT_EQ(p.legacy_name, std::string(name) != "default_cma_region");
        EXPECT_TRUE(p.other_words.empty());
    }
}

TEST(HeapName, RegionAddressAndProperties)
{
    HeapProperties p = parse_heap_name("memory@42000000-cacheable-contiguous");
    EXPECT_EQ(p.region, "memory");
    EXPECT_EQ(p.address, "42000000");
    ASSERT_TRUE(p.address_value.has_value());
    EXPECT_EQ(*p.address_value, 0x42000000u);
    EXPECT_EQ(p.caching, Caching::Cached);
    EXPECT_TRUE(p.contiguous);
    EXPECT_FALSE(p.protected_memory);
    EXPECT_TRUE(p.other_words.empty());
}

TEST(HeapName, UsageNameWithAddressAndNoProperties)
{
    HeapProperties p = parse_heap_name("video@42000000");
    EXPECT_EQ(p.region, "video");
    EXPECT_EQ(*p.address_value, 0x42000000u);
    EXPECT_EQ(p.caching, Caching::Unknown);
    EXPECT_FALSE(p.contiguous);
}

TEST(HeapName, ProtectedAndUncacheable)
{
    HeapProperties p = parse_heap_name("secure-video@80000000-uncacheable-protected");
    // dashes before the '@' word belong to the region (device-tree node names have them)
    EXPECT_EQ(p.region, "secure-video");
    EXPECT_EQ(*p.address_value, 0x80000000u);
    EXPECT_EQ(p.caching, Caching::Uncached);
    EXPECT_TRUE(p.protected_memory);
}

TEST(HeapName, UnknownWordsAreKeptAsUsage)
{
    HeapProperties p = parse_heap_name("carveout-camera-contiguous");
    EXPECT_EQ(p.region, "carveout");
    EXPECT_TRUE(p.contiguous);
    ASSERT_EQ(p.other_words.size(), 1u);
    EXPECT_EQ(p.other_words[0], "camera");
}

TEST(HeapName, NonHexAddressKeptAsText)
{
    HeapProperties p = parse_heap_name("mem@0,1000");
    EXPECT_EQ(p.region, "mem");
    EXPECT_EQ(p.address, "0,1000");
    EXPECT_FALSE(p.address_value.has_value());
}

TEST(HeapName, ConflictingCachingIsUnknown)
{
    EXPECT_EQ(parse_heap_name("mem-cacheable-uncacheable").caching, Caching::Unknown);
}

TEST(HeapName, DegenerateNamesDoNotCrash)
{
    for (const char* name : {"", "-", "--", "@", "a@", "@-contiguous", "-contiguous-"}) {
        SCOPED_TRACE(name);
        HeapProperties p = parse_heap_name(name);
        EXPECT_EQ(p.name, name);
    }
    EXPECT_TRUE(parse_heap_name("@-contiguous").contiguous);
    EXPECT_EQ(parse_heap_name("a@").address, "");
    EXPECT_FALSE(parse_heap_name("a@").address_value.has_value());
}

TEST(HeapName, DescribeNamesTheProperties)
{
    std::string d = describe(parse_heap_name("memory@42000000-cacheable-contiguous-protected"));
    EXPECT_NE(d.find("cacheable"), std::string::npos);
    EXPECT_NE(d.find("contiguous"), std::string::npos);
    EXPECT_NE(d.find("protected"), std::string::npos);
    EXPECT_NE(d.find("@42000000"), std::string::npos);
}
