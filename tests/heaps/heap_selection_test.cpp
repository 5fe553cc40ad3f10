// --buffer-heap: parsing the selection, and resolving it against fixture heap directories
// (plain files stand in for heaps: listed, never able to allocate) and the real kernel.
#include "syncway/heaps/heap_selection.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>

using namespace syncway::heaps;
using syncway::heaps::test::FixtureDir;
using Kind = HeapSelection::Kind;

namespace {

constexpr uint64_t frame_size = 640ull * 480 * 4;

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

HeapSelection parsed(const char* text)
{
    auto s = parse_heap_selection(text);
    EXPECT_TRUE(s.ok()) << text << ": " << s.error().message;
    return s.ok() ? s.value() : HeapSelection{};
}

} // namespace

TEST(HeapSelectionParse, NoneAutoAndNames)
{
    EXPECT_EQ(parsed("none").kind, Kind::None);
    EXPECT_EQ(parsed("auto").kind, Kind::Auto);
    HeapSelection system = parsed("system");
    EXPECT_EQ(system.kind, Kind::Named);
    EXPECT_EQ(system.name, "system");
    // Names with commas and property words inside them stay names.
    EXPECT_EQ(parsed("linux,cma").kind, Kind::Named);
    EXPECT_EQ(parsed("linux,cma").name, "linux,cma");
    EXPECT_EQ(parsed("memory@42000000-uncacheable").kind, Kind::Named);
    EXPECT_EQ(parsed("contiguous,video").kind, Kind::Named);
}

TEST(HeapSelectionParse, PropertiesForm)
{
    HeapSelection s = parsed("contiguous,uncacheable");
    EXPECT_EQ(s.kind, Kind::Properties);
    EXPECT_EQ(s.requirements.contiguous, Need::Required);
    EXPECT_EQ(s.requirements.cacheable, Need::Forbidden);
    EXPECT_EQ(s.requirements.protected_memory, Need::Forbidden);

    s = parsed("cacheable");
    EXPECT_EQ(s.kind, Kind::Properties);
    EXPECT_EQ(s.requirements.cacheable, Need::Required);
    EXPECT_EQ(s.requirements.contiguous, Need::Any);

    s = parsed("non-contiguous,cached");
    EXPECT_EQ(s.requirements.contiguous, Need::Forbidden);
    EXPECT_EQ(s.requirements.cacheable, Need::Required);
    EXPECT_EQ(describe(s), "a heap that is cacheable, non-contiguous");
}

TEST(HeapSelectionParse, BadInputIsNamed)
{
    for (const char* text : {"", "cacheable,uncacheable", "contiguous,non-contiguous", "protected",
                             "contiguous,protected", "../system", "/dev/dma_heap/system", ".."}) {
        auto s = parse_heap_selection(text);
        ASSERT_FALSE(s.ok()) << "'" << text << "' was accepted";
        EXPECT_EQ(s.error().code, EINVAL);
        EXPECT_TRUE(contains(s.error().message, "'" + std::string(text) + "'")) << s.error().message;
    }
    EXPECT_TRUE(contains(parse_heap_selection("protected").error().message, "cannot be mapped"));
}

TEST(HeapSelectionResolve, AutoWithoutHeapsOrUdmabufIsMemfdWithBothReasons)
{
    Allocator allocator({"/nonexistent/dma_heap", "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("auto"), frame_size, false);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->source.backend, Backend::Memfd);
    EXPECT_FALSE(r->source.is_dmabuf());
    EXPECT_TRUE(contains(r->source.reason, "/nonexistent/dma_heap")) << r->source.reason;
    EXPECT_TRUE(contains(r->source.reason, "/nonexistent/udmabuf")) << r->source.reason;
    EXPECT_GE(r->buffer.size, frame_size);
    // Later buffers are forced to the same source.
    AllocationRequest later = r->source.request(4096, "later");
    EXPECT_EQ(later.backend, BackendChoice::Memfd);
    auto again = allocator.allocate(later);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(again->backend, Backend::Memfd);
}

TEST(HeapSelectionResolve, AutoNeedingDmabufFailsWithoutOne)
{
    FixtureDir dir;
    dir.add("system"); // listed, but a plain file: cannot allocate
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("auto"), frame_size, true);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ENODEV);
    EXPECT_TRUE(contains(r.error().message, "no dma-buf source")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "'system'")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "/nonexistent/udmabuf")) << r.error().message;
}

TEST(HeapSelectionResolve, AutoPassesOverAHeapThatCannotAllocate)
{
    FixtureDir dir;
    dir.add("system");
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("auto"), frame_size, false);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->source.backend, Backend::Memfd);
    EXPECT_TRUE(contains(r->source.reason, "dma-buf heap 'system' could not allocate")) << r->source.reason;
}

TEST(HeapSelectionResolve, MissingNamedHeapIsAnErrorNamingItAndWhatExists)
{
    FixtureDir dir;
    dir.add("linux,cma");
    dir.add("system-uncached");
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("system"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ENOENT);
    EXPECT_TRUE(contains(r.error().message, "--buffer-heap heap 'system'")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "no dma-buf heap named 'system'")) << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "linux,cma, system-uncached")) << r.error().message;

    Allocator no_heaps({"/nonexistent/dma_heap", "/nonexistent/udmabuf"});
    r = resolve_source(no_heaps, parsed("system"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(contains(r.error().message, "'/nonexistent/dma_heap' does not exist")) << r.error().message;
}

TEST(HeapSelectionResolve, NamedHeapThatCannotBeOpenedIsAnError)
{
    FixtureDir dir;
    // A sysfs attribute without a write method refuses O_RDWR with EACCES, even to root.
    std::string link = dir.path() + "/system";
    ASSERT_EQ(::symlink("/sys/devices/system/cpu/online", link.c_str()), 0);
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("system"), frame_size, false);
    ::unlink(link.c_str());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EACCES);
    EXPECT_TRUE(contains(r.error().message, "cannot open the dma-buf heap '" + link + "'")) << r.error().message;
}

TEST(HeapSelectionResolve, NamedHeapThatCannotAllocateIsAnErrorNotAFallback)
{
    FixtureDir dir;
    dir.add("system");
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("system"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(contains(r.error().message, "dma-buf heap 'system' could not allocate " +
                                                 std::to_string(frame_size) + " bytes"))
        << r.error().message;
}

TEST(HeapSelectionResolve, PropertiesPickTheMatchingHeapByItsName)
{
    FixtureDir dir;
    dir.add("system");
    dir.add("default_cma_region");
    dir.add("video@42000000-contiguous-uncacheable");
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    // Fixture heaps cannot allocate: the error names the heap the properties chose.
    auto r = resolve_source(allocator, parsed("contiguous,uncacheable"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(contains(r.error().message, "'video@42000000-contiguous-uncacheable' could not allocate"))
        << r.error().message;
    r = resolve_source(allocator, parsed("contiguous,cacheable"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(contains(r.error().message, "'default_cma_region' could not allocate")) << r.error().message;
}

TEST(HeapSelectionResolve, PropertiesNoHeapMeetsIsAnErrorDescribingThem)
{
    FixtureDir dir;
    dir.add("system");
    Allocator allocator({dir.path(), "/nonexistent/udmabuf"});
    auto r = resolve_source(allocator, parsed("contiguous,uncacheable"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ENOENT);
    EXPECT_TRUE(contains(r.error().message, "--buffer-heap a heap that is uncacheable, contiguous"))
        << r.error().message;
    EXPECT_TRUE(contains(r.error().message, "available: system")) << r.error().message;
}

TEST(HeapSelectionResolve, NoneIsNotASource)
{
    Allocator allocator;
    auto r = resolve_source(allocator, parsed("none"), frame_size, false);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EINVAL);
}

// On a kernel with the system heap (the VM tier), the heap is what auto and its name give.
TEST(HeapSelectionResolve, RealSystemHeap)
{
    if (!syncway::heaps::test::is_char_device("/dev/dma_heap/system"))
        GTEST_SKIP() << "no /dev/dma_heap/system on this kernel";
    Allocator allocator;
    for (const char* text : {"auto", "system", "cacheable,non-contiguous"}) {
        auto r = resolve_source(allocator, parsed(text), frame_size, true);
        ASSERT_TRUE(r.ok()) << text << ": " << r.error().message;
        EXPECT_EQ(r->source.backend, Backend::Heap) << text;
        EXPECT_EQ(r->source.heap_name, "system") << text;
        EXPECT_TRUE(r->buffer.is_dmabuf());
    }
}
