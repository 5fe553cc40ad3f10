// Unit tests of the command-line parser (compositor/options.cpp).
#include "options.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

using namespace syncway;

namespace {

Result<Options> parse(std::vector<std::string_view> args) { return parse_options(args); }

} // namespace

TEST(OutputSpec, Parses)
{
    auto spec = parse_output_spec("1920x1080");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec.value(), (OutputSpec{1920, 1080, 60000}));
    spec = parse_output_spec("800x600@30");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec.value(), (OutputSpec{800, 600, 30000}));
    spec = parse_output_spec("1280x720@59.94");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->refresh_mhz, 59940);
    spec = parse_output_spec("1x1@144.001");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->refresh_mhz, 144001);
}

TEST(OutputSpec, RejectsMalformed)
{
    for (std::string_view bad : {"", "x", "1920", "1920x", "x1080", "0x1080", "1920x0", "-1x5", "1920x1080@",
                                 "1920x1080@0.0", "1920x1080@abc", "1920x1080@60.", "1920x1080@60.1234",
                                 "1920x1080@1001", "99999x100", "1920 x1080", "1920x1080x3", "+5x5", "5x5@-60",
                                 "1920X1080", "19.5x10"}) {
        auto spec = parse_output_spec(bad);
        EXPECT_FALSE(spec) << "accepted '" << bad << "'";
        if (!spec) {
            EXPECT_NE(spec.error().message.find("'" + std::string(bad) + "'"), std::string::npos)
                << spec.error().message;
        }
    }
}

TEST(Options, Defaults)
{
    auto options = parse({});
    ASSERT_TRUE(options);
    EXPECT_EQ(options->backend, BackendKind::Auto);
    EXPECT_EQ(options->renderer, RendererKind::Auto);
    EXPECT_TRUE(options->outputs.empty());
    EXPECT_TRUE(options->socket.empty());
    EXPECT_TRUE(options->command.empty());
    EXPECT_FALSE(options->help);
}

TEST(Options, AllForms)
{
    auto options = parse({"--backend", "headless", "--renderer=pixman", "--output", "800x600", "--output=640x480@75",
                          "--socket", "wl-test", "-v", "--", "foot", "--", "-e", "sh"});
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->backend, BackendKind::Headless);
    EXPECT_EQ(options->renderer, RendererKind::Pixman);
    ASSERT_EQ(options->outputs.size(), 2u);
    EXPECT_EQ(options->outputs[1], (OutputSpec{640, 480, 75000}));
    EXPECT_EQ(options->socket, "wl-test");
    EXPECT_TRUE(options->verbose);
    // Everything after the first `--` belongs to the command, `--` included.
    EXPECT_EQ(options->command, (std::vector<std::string>{"foot", "--", "-e", "sh"}));
}

TEST(Options, EveryBackendAndRendererName)
{
    for (auto kind : {BackendKind::Auto, BackendKind::Headless, BackendKind::Wayland, BackendKind::X11, BackendKind::Drm}) {
        std::string arg = "--backend=" + std::string(backend_name(kind));
        auto options = parse({arg});
        ASSERT_TRUE(options) << arg;
        EXPECT_EQ(options->backend, kind);
    }
    for (auto kind : {RendererKind::Auto, RendererKind::Pixman, RendererKind::Gles2}) {
        std::string arg = "--renderer=" + std::string(renderer_name(kind));
        auto options = parse({arg});
        ASSERT_TRUE(options) << arg;
        EXPECT_EQ(options->renderer, kind);
    }
}

TEST(Options, ErrorsNameTheInput)
{
    struct Case {
        std::vector<std::string_view> args;
        std::string named;
    };
    for (const Case& c : std::vector<Case>{{{"--backend", "gpu"}, "'gpu'"},
                                           {{"--renderer", "vulkan"}, "'vulkan'"},
                                           {{"--output", "big"}, "'big'"},
                                           {{"--what"}, "'--what'"},
                                           {{"-x"}, "'-x'"},
                                           {{"stray"}, "'stray'"},
                                           {{"--backend"}, "'--backend'"},
                                           {{"--socket="}, "''"},
                                           {{"--socket", "../x"}, "'../x'"},
                                           {{"--"}, "'--'"}}) {
        auto options = parse(c.args);
        ASSERT_FALSE(options) << c.args[0];
        EXPECT_NE(options.error().message.find(c.named), std::string::npos) << options.error().message;
    }
}

TEST(Options, HelpAndVersionFlags)
{
    EXPECT_TRUE(parse({"--help"})->help);
    EXPECT_TRUE(parse({"-h"})->help);
    EXPECT_TRUE(parse({"--version"})->version);
    EXPECT_TRUE(parse({"-V"})->version);
    std::string usage = usage_text("syncway");
    for (const char* word : {"--backend", "--renderer", "--output", "--socket", "--help", "--version", "128+N"})
        EXPECT_NE(usage.find(word), std::string::npos) << word;
}

TEST(Options, NoVulkanLayer)
{
    auto defaults = parse({});
    ASSERT_TRUE(defaults);
    EXPECT_TRUE(defaults->vulkan_layer);
    auto off = parse({"--no-vulkan-layer", "--", "vkcube-wayland"});
    ASSERT_TRUE(off);
    EXPECT_FALSE(off->vulkan_layer);
    EXPECT_EQ(off->command, std::vector<std::string>{"vkcube-wayland"});
    // After `--` it belongs to COMMAND.
    auto theirs = parse({"--", "prog", "--no-vulkan-layer"});
    ASSERT_TRUE(theirs);
    EXPECT_TRUE(theirs->vulkan_layer);
    EXPECT_FALSE(parse({"--no-vulkan-layer=1"})) << "a flag takes no value";
    EXPECT_NE(usage_text("syncway").find("--no-vulkan-layer"), std::string::npos);
}

TEST(Options, ClientLimits)
{
    auto defaults = parse({});
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->limits, ClientLimits{});
    auto set = parse({"--limit-timelines", "8", "--limit-held-commits=9", "--limit-waits", "10",
                      "--limit-dmabuf-fds", "11", "--fd-headroom", "0"});
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->limits, (ClientLimits{8, 9, 10, 11, 0}));
    for (std::vector<std::string_view> bad : {std::vector<std::string_view>{"--limit-timelines", "0"},
                                              {"--limit-waits", "-1"},
                                              {"--limit-held-commits", "many"},
                                              {"--limit-dmabuf-fds", "99999999999"},
                                              {"--fd-headroom", ""}}) {
        auto options = parse(bad);
        ASSERT_FALSE(options) << bad[0] << " " << bad[1];
        EXPECT_NE(options.error().message.find(std::string(bad[0])), std::string::npos) << options.error().message;
    }
    // --help names every limit with its default.
    std::string usage = usage_text("syncway");
    for (const char* word : {"--limit-timelines N", "default 256", "--limit-held-commits N", "default 1024",
                             "--limit-waits N", "default 128", "--limit-dmabuf-fds N", "--fd-headroom N",
                             "default 512", "RLIMIT_NOFILE"})
        EXPECT_NE(usage.find(word), std::string::npos) << word;
}

// The environment completes the options once (apply_environment): SYNCWAY_SYNCOBJ is --syncobj's
// default, "off" there wins over the option, a bad value is ignored with a note naming it.
TEST(Environment, SyncobjModeFromTheEnvironment)
{
    auto with = [](std::vector<std::string_view> args, std::string env_mode, std::vector<std::string>* notes = nullptr) {
        auto parsed = parse(std::move(args));
        EXPECT_TRUE(parsed);
        Environment env;
        env.syncobj = std::move(env_mode);
        auto said = apply_environment(parsed.value(), env);
        if (notes)
            *notes = said;
        return parsed.value();
    };
    EXPECT_EQ(with({}, "").syncobj, SyncobjMode::Auto);
    EXPECT_EQ(with({}, "service").syncobj, SyncobjMode::Service);
    EXPECT_EQ(with({"--syncobj", "drm"}, "service").syncobj, SyncobjMode::Drm);
    std::vector<std::string> notes;
    EXPECT_EQ(with({"--syncobj", "auto"}, "off", &notes).syncobj, SyncobjMode::Off);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("--syncobj auto"), std::string::npos) << notes[0];
    EXPECT_EQ(with({}, "sometimes", &notes).syncobj, SyncobjMode::Auto);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("'sometimes'"), std::string::npos) << notes[0];
    // The environment travels with the options.
    auto parsed = parse({});
    Environment env;
    env.xdg_runtime_dir = "/run/user/1000";
    apply_environment(parsed.value(), env);
    EXPECT_EQ(parsed->env.xdg_runtime_dir, "/run/user/1000");
}

TEST(Options, BufferHeap)
{
    auto options = parse({});
    ASSERT_TRUE(options);
    EXPECT_EQ(options->buffer_heap.kind, heaps::HeapSelection::Kind::Auto) << "auto is the default";
    options = parse({"--buffer-heap", "system"});
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->buffer_heap.kind, heaps::HeapSelection::Kind::Named);
    EXPECT_EQ(options->buffer_heap.name, "system");
    options = parse({"--buffer-heap=contiguous,uncacheable"});
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->buffer_heap.kind, heaps::HeapSelection::Kind::Properties);
    EXPECT_EQ(options->buffer_heap.requirements.contiguous, heaps::Need::Required);
    EXPECT_EQ(options->buffer_heap.requirements.cacheable, heaps::Need::Forbidden);
    options = parse({"--buffer-heap", "none"});
    ASSERT_TRUE(options);
    EXPECT_EQ(options->buffer_heap.kind, heaps::HeapSelection::Kind::None);
    for (std::vector<std::string_view> bad : {std::vector<std::string_view>{"--buffer-heap"},
                                              {"--buffer-heap", ""},
                                              {"--buffer-heap", "cacheable,uncached"},
                                              {"--buffer-heap", "/dev/dma_heap/system"}}) {
        auto refused = parse(bad);
        ASSERT_FALSE(refused) << "accepted " << bad.back();
        EXPECT_NE(refused.error().message.find("--buffer-heap"), std::string::npos) << refused.error().message;
    }
}

TEST(Options, DirectScanout)
{
    auto options = parse({});
    ASSERT_TRUE(options);
    EXPECT_EQ(options->direct_scanout, ScanoutMode::Auto) << "auto is the default";
    options = parse({"--direct-scanout", "off"});
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->direct_scanout, ScanoutMode::Off);
    options = parse({"--direct-scanout=auto"});
    ASSERT_TRUE(options) << options.error().message;
    EXPECT_EQ(options->direct_scanout, ScanoutMode::Auto);
    for (std::vector<std::string_view> bad : {std::vector<std::string_view>{"--direct-scanout"},
                                              {"--direct-scanout", ""},
                                              {"--direct-scanout", "on"}}) {
        auto refused = parse(bad);
        ASSERT_FALSE(refused) << "accepted " << bad.back();
        EXPECT_NE(refused.error().message.find("--direct-scanout"), std::string::npos) << refused.error().message;
    }
}
