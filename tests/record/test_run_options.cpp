// The command-line options of recorded and bounded runs: values accepted, and bad ones named.
#include "options.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace {

using namespace syncway;

Result<Options> parse(std::vector<std::string_view> args) { return parse_options(args); }

TEST(RunOptions, Accepted)
{
    auto o = parse({"--record", "out", "--frames", "30", "--timeout", "2.5", "--screenshot=s.png", "--scale", "1.5",
                    "--output", "1280x720@0", "--record-trace-only"});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o.value().record_dir, "out");
    EXPECT_EQ(o.value().frames, 30);
    EXPECT_EQ(o.value().timeout_ms, 2500);
    EXPECT_EQ(o.value().screenshot, "s.png");
    EXPECT_DOUBLE_EQ(o.value().scale, 1.5);
    EXPECT_FALSE(o.value().record_frames);
    ASSERT_EQ(o.value().outputs.size(), 1u);
    EXPECT_EQ(o.value().outputs[0].refresh_mhz, 0);
    EXPECT_FALSE(o.value().test_ignore_acquire);
    EXPECT_TRUE(parse({"--test-fault=ignore-acquire"}).value().test_ignore_acquire);
}

TEST(RunOptions, RejectedWithTheirName)
{
    for (auto [args, named] : std::vector<std::pair<std::vector<std::string_view>, std::string_view>>{
             {{"--frames", "0"}, "--frames"},
             {{"--frames", "-3"}, "--frames"},
             {{"--frames", "ten"}, "--frames"},
             {{"--timeout", "0"}, "--timeout"},
             {{"--timeout", "1e3"}, "--timeout"},
             {{"--timeout", "2."}, "--timeout"},
             {{"--scale", "0.1"}, "--scale"},
             {{"--scale", "9"}, "--scale"},
             {{"--scale", "x"}, "--scale"},
             {{"--record", ""}, "--record"},
             {{"--screenshot"}, "--screenshot"},
             {{"--output", "1280x720@-1"}, "--output"},
         }) {
        auto o = parse(args);
        ASSERT_FALSE(o) << args[0];
        EXPECT_NE(o.error().message.find(named), std::string::npos) << o.error().message;
    }
}

} // namespace
