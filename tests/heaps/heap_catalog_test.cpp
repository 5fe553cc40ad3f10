#include "syncway/heaps/heap_catalog.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>

using namespace syncway::heaps;
using syncway::heaps::test::FixtureDir;

TEST(HeapCatalog, MissingDirectoryIsEmptyNotAnError)
{
    auto c = HeapCatalog::scan("/nonexistent/dma_heap");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_FALSE(c->exists());
    EXPECT_TRUE(c->heaps().empty());
    auto chosen = c->choose({});
    ASSERT_FALSE(chosen.ok());
    EXPECT_EQ(chosen.error().code, ENOENT);
    EXPECT_NE(chosen.error().message.find("/nonexistent/dma_heap"), std::string::npos);
}

TEST(HeapCatalog, NotADirectoryIsAnError)
{
    auto c = HeapCatalog::scan("/proc/self/status");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ENOTDIR);
    EXPECT_NE(c.error().message.find("/proc/self/status"), std::string::npos);
}

TEST(HeapCatalog, ListsFixtureSortedWithParsedNames)
{
    FixtureDir dir;
    dir.add("system");
    dir.add("linux,cma");
    dir.add("memory@42000000-uncacheable");
    auto c = HeapCatalog::scan(dir.path());
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->exists());
    ASSERT_EQ(c->heaps().size(), 3u);
    EXPECT_EQ(c->heaps()[0].properties.name, "linux,cma");
    EXPECT_TRUE(c->heaps()[0].properties.contiguous);
    EXPECT_EQ(c->heaps()[1].properties.name, "memory@42000000-uncacheable");
    EXPECT_EQ(c->heaps()[2].properties.name, "system");
    EXPECT_EQ(c->heaps()[2].path, dir.path() + "/system");
    EXPECT_FALSE(c->heaps()[2].is_device);
}

TEST(HeapCatalog, DefaultChoiceIsCacheableNonContiguous)
{
    FixtureDir dir;
    dir.add("default_cma_region");
    dir.add("system-uncached");
    dir.add("system");
    dir.add("secure@1000-protected-cacheable");
    auto c = HeapCatalog::scan(dir.path());
    ASSERT_TRUE(c.ok());
    auto h = c->choose({});
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(h->properties.name, "system");
}

TEST(HeapCatalog, CmaOverUncachedWhenNoSystemHeap)
{
    FixtureDir dir;
    dir.add("default_cma_region");
    dir.add("system-uncached");
    auto c = HeapCatalog::scan(dir.path());
    EXPECT_EQ(c->choose({})->properties.name, "default_cma_region");
}

TEST(HeapCatalog, RequirementsSelect)
{
    FixtureDir dir;
    dir.add("default_cma_region");
    dir.add("system-uncached");
    dir.add("system");
    dir.add("secure@1000-protected-cacheable");
    dir.add("video@42000000");
    auto c = HeapCatalog::scan(dir.path());
    ASSERT_TRUE(c.ok());

    HeapRequirements contiguous;
    contiguous.contiguous = Need::Required;
    EXPECT_EQ(c->choose(contiguous)->properties.name, "default_cma_region");

    HeapRequirements uncached;
    uncached.cacheable = Need::Forbidden;
    EXPECT_EQ(c->choose(uncached)->properties.name, "system-uncached");

    HeapRequirements prot;
    prot.protected_memory = Need::Required;
    EXPECT_EQ(c->choose(prot)->properties.name, "secure@1000-protected-cacheable");

    // a heap whose caching is unknown is not chosen when cacheable memory is required
    HeapRequirements cached_contiguous;
    cached_contiguous.cacheable = Need::Required;
    cached_contiguous.contiguous = Need::Forbidden;
    EXPECT_EQ(c->choose(cached_contiguous)->properties.name, "system");
}

TEST(HeapCatalog, NoMatchNamesRequirementsAndHeaps)
{
    FixtureDir dir;
    dir.add("system");
    auto c = HeapCatalog::scan(dir.path());
    HeapRequirements needs;
    needs.contiguous = Need::Required;
    auto h = c->choose(needs);
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().code, ENOENT);
    EXPECT_NE(h.error().message.find("contiguous required"), std::string::npos) << h.error().message;
    EXPECT_NE(h.error().message.find("system"), std::string::npos) << h.error().message;
}

TEST(HeapCatalog, FindByName)
{
    FixtureDir dir;
    dir.add("system");
    dir.add("reserved");
    auto c = HeapCatalog::scan(dir.path());
    EXPECT_EQ(c->find("reserved")->path, dir.path() + "/reserved");
    auto missing = c->find("nosuch");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ENOENT);
    EXPECT_NE(missing.error().message.find("'nosuch'"), std::string::npos);
    EXPECT_NE(missing.error().message.find("reserved, system"), std::string::npos) << missing.error().message;
}

TEST(HeapCatalog, RealHeapsAreDevices)
{
    if (syncway::heaps::test::first_real_heap().empty())
        GTEST_SKIP() << "no /dev/dma_heap on this kernel (CONFIG_DMABUF_HEAPS); the VM tier runs this";
    auto c = HeapCatalog::scan();
    ASSERT_TRUE(c.ok());
    ASSERT_FALSE(c->heaps().empty());
    for (const Heap& h : c->heaps())
        EXPECT_TRUE(h.is_device) << h.path;
    EXPECT_TRUE(c->choose({}).ok());
}
