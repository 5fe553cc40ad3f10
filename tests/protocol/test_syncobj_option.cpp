// --syncobj on the command line (compositor/options.cpp) and its place in --help.
#include "options.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

using namespace syncway;

namespace {

Result<Options> parse(std::vector<std::string_view> args) { return parse_options(args); }

} // namespace

TEST(SyncobjOption, UnsetByDefault)
{
    auto options = parse({});
    ASSERT_TRUE(options);
    EXPECT_FALSE(options->syncobj.has_value());  // then $SYNCWAY_SYNCOBJ, else auto
}

TEST(SyncobjOption, EveryMode)
{
    for (auto [text, mode] : {std::pair{"auto", SyncobjMode::Auto}, {"kernel", SyncobjMode::Kernel},
                              {"drm", SyncobjMode::Drm}, {"service", SyncobjMode::Service}, {"off", SyncobjMode::Off}}) {
        auto spaced = parse({"--syncobj", text});
        ASSERT_TRUE(spaced) << text;
        EXPECT_EQ(spaced->syncobj, mode);
        std::string joined = std::string("--syncobj=") + text;
        auto eq = parse({joined});
        ASSERT_TRUE(eq) << joined;
        EXPECT_EQ(eq->syncobj, mode);
        EXPECT_EQ(syncobj_mode_name(mode), text);
        EXPECT_EQ(syncobj_mode_from(text), mode);
    }
}

TEST(SyncobjOption, BadValueNamesItAndTheChoices)
{
    auto options = parse({"--syncobj", "userspace"});
    ASSERT_FALSE(options);
    EXPECT_NE(options.error().message.find("'userspace'"), std::string::npos) << options.error().message;
    EXPECT_NE(options.error().message.find("auto, kernel, drm, service or off"), std::string::npos);
    EXPECT_FALSE(parse({"--syncobj"}));
}

TEST(SyncobjOption, HelpTellsTheModesAndTheKillSwitch)
{
    std::string help = usage_text("syncway");
    EXPECT_NE(help.find("--syncobj auto|kernel|drm|service|off"), std::string::npos);
    EXPECT_NE(help.find("SYNCWAY_SYNCOBJ=off"), std::string::npos);
    EXPECT_NE(help.find("SYNCWAY_SYNCOBJ_SOCKET"), std::string::npos);
}
