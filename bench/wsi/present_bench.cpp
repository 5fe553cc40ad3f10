// B7: Vulkan presentation through syncway's layer (wsi/) against Mesa's own Wayland WSI, same
// run, lavapipe, headless syncway 1280x720@60:
//   - frames/s and the application's CPU per frame (all its threads, lavapipe's included);
//   - latency from vkQueuePresentKHR to the frame presented (wp_presentation feedback
//     requested on the application's surface just before each present, so it belongs to the
//     commit the WSI makes inside it), p50 / p99.
// Scenes: "light" (a clear, vkcube's order of work), "blits" (a clear plus filtered blits
// between 1024x1024 images; lavapipe runs transfers inside vkQueueSubmit, on the application's
// thread), "shader" (a full-window draw whose fragment shader iterates a Julia set: several ms
// of work on lavapipe's rasterizer threads, after vkQueueSubmit returns), and vkcube-wayland
// itself (frames/s and CPU only: it has no presentation feedback). LP_NUM_THREADS 1 and 2.
//
//   build/bench/wsi/bench-wsi-present [--frames N] [--rounds R] [--syncway PATH]
// Every configuration runs once per round, rounds interleaved (load changes hit both WSIs);
// medians are printed.
// Client mode (what syncway runs): bench-wsi-present --client SCENE FRAMES
// CPU wrapper mode: bench-wsi-present --cpu-of COMMAND ARGS...
#include "presentation-time-client-protocol.h"

#include <syncway/testing/dispatch.hpp>
#include <syncway/testing/vulkan_client.hpp>

#ifdef HAVE_SHADER_SCENE
#include "scene_frag_spv.h"
#include "scene_vert_spv.h"
#endif

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

[[noreturn]] void die(const std::string& what) { syncway::testing::client_fail(what); }

void check(VkResult r, const char* what) { syncway::testing::vk_check(r, what); }

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

double cpu_seconds(int who)
{
    rusage ru{};
    getrusage(who, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- client mode ---------------------------------------------------------------------------

constexpr uint32_t kWidth = 1280, kHeight = 720;
constexpr int32_t kScratch = 1024;
constexpr uint32_t kIterations = 8;  // the shader scene's work per pixel

#ifdef HAVE_SHADER_SCENE
// Render pass, pipeline and framebuffers for the shader scene.
struct ShaderScene {
    VkRenderPass pass = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
    std::vector<VkFramebuffer> framebuffers;

    ShaderScene(VkDevice device, const std::vector<VkImage>& images)
    {
        VkAttachmentDescription color{};
        color.format = VK_FORMAT_B8G8R8A8_UNORM;
        color.samples = VK_SAMPLE_COUNT_1_BIT;
        color.loadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
        color.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
        color.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
        color.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
        color.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
        color.finalLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
        VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
        VkSubpassDescription subpass{};
        subpass.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
        subpass.colorAttachmentCount = 1;
        subpass.pColorAttachments = &ref;
        // The image is written only after the acquire semaphore's wait (at this stage).
        VkSubpassDependency dep{};
        dep.srcSubpass = VK_SUBPASS_EXTERNAL;
        dep.srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
        dep.dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
        dep.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
        VkRenderPassCreateInfo rp{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO};
        rp.attachmentCount = 1;
        rp.pAttachments = &color;
        rp.subpassCount = 1;
        rp.pSubpasses = &subpass;
        rp.dependencyCount = 1;
        rp.pDependencies = &dep;
        check(vkCreateRenderPass(device, &rp, nullptr, &pass), "vkCreateRenderPass");
        for (VkImage image : images) {
            VkImageViewCreateInfo vi{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
            vi.image = image;
            vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
            vi.format = VK_FORMAT_B8G8R8A8_UNORM;
            vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
            VkImageView view;
            check(vkCreateImageView(device, &vi, nullptr, &view), "vkCreateImageView");
            VkFramebufferCreateInfo fi{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO};
            fi.renderPass = pass;
            fi.attachmentCount = 1;
            fi.pAttachments = &view;
            fi.width = kWidth;
            fi.height = kHeight;
            fi.layers = 1;
            VkFramebuffer fb;
            check(vkCreateFramebuffer(device, &fi, nullptr, &fb), "vkCreateFramebuffer");
            framebuffers.push_back(fb);
        }
        VkPushConstantRange push{VK_SHADER_STAGE_FRAGMENT_BIT, 0, 8};
        VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
        li.pushConstantRangeCount = 1;
        li.pPushConstantRanges = &push;
        check(vkCreatePipelineLayout(device, &li, nullptr, &layout), "vkCreatePipelineLayout");
        auto module = [&](const uint32_t* code, size_t size) {
            VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
            mi.codeSize = size;
            mi.pCode = code;
            VkShaderModule m;
            check(vkCreateShaderModule(device, &mi, nullptr, &m), "vkCreateShaderModule");
            return m;
        };
        VkPipelineShaderStageCreateInfo stages[2] = {{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO},
                                                     {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO}};
        stages[0].stage = VK_SHADER_STAGE_VERTEX_BIT;
        stages[0].module = module(scene_vert_spv, sizeof scene_vert_spv);
        stages[0].pName = "main";
        stages[1].stage = VK_SHADER_STAGE_FRAGMENT_BIT;
        stages[1].module = module(scene_frag_spv, sizeof scene_frag_spv);
        stages[1].pName = "main";
        VkPipelineVertexInputStateCreateInfo vertex{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
        VkPipelineInputAssemblyStateCreateInfo assembly{VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
        assembly.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;
        VkViewport viewport{0, 0, float(kWidth), float(kHeight), 0, 1};
        VkRect2D scissor{{0, 0}, {kWidth, kHeight}};
        VkPipelineViewportStateCreateInfo vp{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
        vp.viewportCount = 1;
        vp.pViewports = &viewport;
        vp.scissorCount = 1;
        vp.pScissors = &scissor;
        VkPipelineRasterizationStateCreateInfo raster{VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
        raster.polygonMode = VK_POLYGON_MODE_FILL;
        raster.cullMode = VK_CULL_MODE_NONE;
        raster.lineWidth = 1;
        VkPipelineMultisampleStateCreateInfo ms{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
        ms.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
        VkPipelineColorBlendAttachmentState blend{};
        blend.colorWriteMask = 0xf;
        VkPipelineColorBlendStateCreateInfo cb{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
        cb.attachmentCount = 1;
        cb.pAttachments = &blend;
        VkGraphicsPipelineCreateInfo pi{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
        pi.stageCount = 2;
        pi.pStages = stages;
        pi.pVertexInputState = &vertex;
        pi.pInputAssemblyState = &assembly;
        pi.pViewportState = &vp;
        pi.pRasterizationState = &raster;
        pi.pMultisampleState = &ms;
        pi.pColorBlendState = &cb;
        pi.layout = layout;
        pi.renderPass = pass;
        check(vkCreateGraphicsPipelines(device, VK_NULL_HANDLE, 1, &pi, nullptr, &pipeline), "vkCreateGraphicsPipelines");
    }

    void record(VkCommandBuffer cmd, uint32_t index, int frame) const
    {
        VkRenderPassBeginInfo begin{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO};
        begin.renderPass = pass;
        begin.framebuffer = framebuffers[index];
        begin.renderArea = {{0, 0}, {kWidth, kHeight}};
        vkCmdBeginRenderPass(cmd, &begin, VK_SUBPASS_CONTENTS_INLINE);
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
        struct {
            float t;
            uint32_t iterations;
        } push{float(frame) / 30.0f, kIterations};
        vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof push, &push);
        vkCmdDraw(cmd, 3, 1, 0, 0);
        vkCmdEndRenderPass(cmd);
    }
};
#endif

struct Feedback {
    int64_t presented_call_ns = 0;
    std::vector<double>* latencies_ms;
    int* discarded;
};

void feedback_presented(void* data, struct wp_presentation_feedback* fb, uint32_t sec_hi, uint32_t sec_lo, uint32_t nsec,
                        uint32_t, uint32_t, uint32_t, uint32_t)
{
    auto* f = static_cast<Feedback*>(data);
    int64_t t = int64_t((uint64_t(sec_hi) << 32) | sec_lo) * 1000000000 + nsec;
    f->latencies_ms->push_back(double(t - f->presented_call_ns) / 1e6);
    wp_presentation_feedback_destroy(fb);
    delete f;
}

void feedback_discarded(void* data, struct wp_presentation_feedback* fb)
{
    auto* f = static_cast<Feedback*>(data);
    ++*f->discarded;
    wp_presentation_feedback_destroy(fb);
    delete f;
}

void feedback_sync_output(void*, struct wp_presentation_feedback*, wl_output*) {}

const wp_presentation_feedback_listener feedback_listener = {feedback_sync_output, feedback_presented, feedback_discarded};

int run_client(const std::string& scene, int frames)
{
    wp_presentation* presentation_global = nullptr;
    uint32_t clock = 0;
    syncway::testing::WaylandClient wl([&](wl_registry* r, uint32_t name, const char* iface) {
        if (std::strcmp(iface, wp_presentation_interface.name) == 0 && !presentation_global)
            presentation_global = static_cast<wp_presentation*>(wl_registry_bind(r, name, &wp_presentation_interface, 1));
    });
    wl_display* display = wl.display();
    if (!presentation_global)
        die("the compositor lacks wp_presentation");
    static const wp_presentation_listener pl = {[](void* data, wp_presentation*, uint32_t c) {
        *static_cast<uint32_t*>(data) = c;
    }};
    wp_presentation_add_listener(presentation_global, &pl, &clock);
    auto toplevel = wl.toplevel("bench-wsi-present");
    if (clock != CLOCK_MONOTONIC)
        die("the presentation clock is not CLOCK_MONOTONIC");

    syncway::testing::VulkanDevice vk;
    syncway::testing::VulkanSurface surface(vk, display, toplevel->surface());
    VkDevice device = vk.device;
    VkQueue queue = vk.queue;
    auto made = syncway::testing::create_swapchain(vk, surface.handle, {{kWidth, kHeight}, VK_PRESENT_MODE_FIFO_KHR, 3});
    if (made.extent.width != kWidth || made.extent.height != kHeight)
        die("the swapchain is not " + std::to_string(kWidth) + "x" + std::to_string(kHeight));
    VkSwapchainKHR swapchain = made.handle;
    std::vector<VkImage> images = made.images;

#ifdef HAVE_SHADER_SCENE
    std::unique_ptr<ShaderScene> shader;
    if (scene == "shader")
        shader = std::make_unique<ShaderScene>(device, images);
#else
    if (scene == "shader")
        die("built without glslangValidator: no shader scene");
#endif
    // Scratch images for the blits scene.
    VkImage scratch[2] = {};
    if (scene == "blits")
        for (auto& img : scratch)
            img = syncway::testing::create_transfer_image(vk, VK_FORMAT_B8G8R8A8_UNORM, kScratch);

    VkCommandPool pool = vk.pool;
    constexpr int kInFlight = 2;
    std::array<VkCommandBuffer, kInFlight> cmds;
    VkCommandBufferAllocateInfo cai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    cai.commandPool = pool;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = kInFlight;
    vkAllocateCommandBuffers(device, &cai, cmds.data());
    std::array<VkSemaphore, kInFlight> acquired, rendered;
    std::array<VkFence, kInFlight> fences;
    for (int i = 0; i < kInFlight; ++i) {
        VkSemaphoreCreateInfo s{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
        vkCreateSemaphore(device, &s, nullptr, &acquired[i]);
        vkCreateSemaphore(device, &s, nullptr, &rendered[i]);
        VkFenceCreateInfo f{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        f.flags = VK_FENCE_CREATE_SIGNALED_BIT;
        vkCreateFence(device, &f, nullptr, &fences[i]);
    }
    auto barrier = syncway::testing::image_barrier;

    wl_event_queue* feedback_queue = wl_display_create_queue(display);
    auto* presentation = static_cast<wp_presentation*>(wl_proxy_create_wrapper(presentation_global));
    wl_proxy_set_queue(reinterpret_cast<wl_proxy*>(presentation), feedback_queue);
    std::vector<double> latencies;
    int discarded = 0;

    const double cpu0 = cpu_seconds(RUSAGE_SELF);
    const int64_t t0 = now_ns();
    for (int frame = 0; frame < frames; ++frame) {
        int slot = frame % kInFlight;
        vkWaitForFences(device, 1, &fences[slot], VK_TRUE, UINT64_MAX);
        vkResetFences(device, 1, &fences[slot]);
        uint32_t index;
        VkResult r = vkAcquireNextImageKHR(device, swapchain, UINT64_MAX, acquired[slot], VK_NULL_HANDLE, &index);
        if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
            die("acquire returned " + std::to_string(r));
        VkCommandBuffer cmd = cmds[slot];
        vkResetCommandBuffer(cmd, 0);
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        vkBeginCommandBuffer(cmd, &begin);
#ifdef HAVE_SHADER_SCENE
        if (shader)
            shader->record(cmd, index, frame);
#endif
        if (scene != "shader") {
        barrier(cmd, images[index], VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
        VkClearColorValue color{{float(frame % 60) / 60.0f, 0.3f, 0.6f, 1}};
        VkImageSubresourceRange range{VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        vkCmdClearColorImage(cmd, images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &color, 1, &range);
        if (scene == "blits") {
            for (auto img : scratch)
                barrier(cmd, img, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL);
            VkImageBlit blit{};
            blit.srcSubresource = blit.dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
            blit.srcOffsets[1] = {kScratch, kScratch, 1};
            blit.dstOffsets[1] = {kScratch - 1, kScratch - 1, 1};
            for (int i = 0; i < 2; ++i)
                vkCmdBlitImage(cmd, scratch[i % 2], VK_IMAGE_LAYOUT_GENERAL, scratch[(i + 1) % 2], VK_IMAGE_LAYOUT_GENERAL,
                               1, &blit, VK_FILTER_LINEAR);
            // The result lands in the frame.
            blit.dstOffsets[0] = {0, 0, 0};
            blit.dstOffsets[1] = {int32_t(kWidth) / 2, int32_t(kHeight) / 2, 1};
            vkCmdBlitImage(cmd, scratch[0], VK_IMAGE_LAYOUT_GENERAL, images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &blit, VK_FILTER_LINEAR);
        }
        barrier(cmd, images[index], VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR);
        }
        vkEndCommandBuffer(cmd);
        VkPipelineStageFlags stage =
            scene == "shader" ? VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT : VK_PIPELINE_STAGE_TRANSFER_BIT;
        VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        submit.waitSemaphoreCount = 1;
        submit.pWaitSemaphores = &acquired[slot];
        submit.pWaitDstStageMask = &stage;
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &cmd;
        submit.signalSemaphoreCount = 1;
        submit.pSignalSemaphores = &rendered[slot];
        check(vkQueueSubmit(queue, 1, &submit, fences[slot]), "vkQueueSubmit");
        // Feedback for the commit the WSI makes inside vkQueuePresentKHR.
        auto* fb = new Feedback{now_ns(), &latencies, &discarded};
        struct wp_presentation_feedback* feedback = wp_presentation_feedback(presentation, toplevel->surface());
        wp_presentation_feedback_add_listener(feedback, &feedback_listener, fb);
        VkPresentInfoKHR present{VK_STRUCTURE_TYPE_PRESENT_INFO_KHR};
        present.waitSemaphoreCount = 1;
        present.pWaitSemaphores = &rendered[slot];
        present.swapchainCount = 1;
        present.pSwapchains = &swapchain;
        present.pImageIndices = &index;
        r = vkQueuePresentKHR(queue, &present);
        if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
            die("present returned " + std::to_string(r));
        wl_display_dispatch_queue_pending(display, feedback_queue);
        wl_display_flush(display);
    }
    vkDeviceWaitIdle(device);
    const double seconds = double(now_ns() - t0) / 1e9;
    const double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    // The last frames' feedback.
    syncway::testing::dispatch_until(display, [&] {
        wl_display_dispatch_queue_pending(display, feedback_queue);
        return int(latencies.size()) + discarded >= frames;
    }, 3s);
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return latencies.empty() ? 0.0 : latencies[size_t(p * double(latencies.size() - 1))]; };
    std::printf("RESULT fps %.1f cpu_ms_per_frame %.2f p50_ms %.2f p99_ms %.2f presented %zu discarded %d\n",
                frames / seconds, cpu * 1000 / frames, pct(0.5), pct(0.99), latencies.size(), discarded);
    std::fflush(stdout);
    std::_Exit(0); // skip teardown: not measured, and Mesa's at-exit work is irrelevant here
}

// ---- CPU wrapper mode: runs COMMAND, prints its CPU and wall time -----------------------------

int run_cpu_of(char** argv)
{
    int64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::printf("CPUOF status %d cpu_s %.3f wall_s %.3f\n", status, cpu, double(now_ns() - t0) / 1e9);
    std::fflush(stdout);
    return 0;
}

// ---- driver mode ----------------------------------------------------------------------------

std::string run_capture(const std::string& command)
{
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (!p)
        return out;
    char buf[4096];
    while (fgets(buf, sizeof buf, p))
        out += buf;
    pclose(p);
    return out;
}

std::string line_with(const std::string& text, const std::string& tag)
{
    size_t at = text.find(tag);
    if (at == std::string::npos)
        return "(no result)";
    return text.substr(at + tag.size(), text.find('\n', at) - at - tag.size());
}

} // namespace

int main(int argc, char** argv)
{
    if (argc >= 4 && std::strcmp(argv[1], "--client") == 0)
        return run_client(argv[2], std::atoi(argv[3]));
    if (argc >= 3 && std::strcmp(argv[1], "--cpu-of") == 0)
        return run_cpu_of(argv + 2);

    int frames = 300, rounds = 3;
    std::string syncway = SYNCWAY_BIN;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--frames") == 0)
            frames = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--rounds") == 0)
            rounds = std::max(1, std::atoi(argv[i + 1]));
        else if (std::strcmp(argv[i], "--syncway") == 0)
            syncway = argv[i + 1];
        else
            die(std::string("unknown option ") + argv[i]);
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        die("cannot find myself");
    self[n] = 0;

    struct Config {
        const char* threads;
        const char* scene;
        const char* wsi;
        std::vector<std::array<double, 4>> runs; // fps, cpu ms/frame, p50 ms, p99 ms
    };
    std::vector<Config> configs;
    for (const char* threads : {"1", "2"})
        for (const char* scene : {"light", "blits", "shader", "vkcube"})
            for (const char* wsi : {"layer", "mesa"})
                configs.push_back({threads, scene, wsi, {}});

    std::printf("B7: %d frames per run, %d interleaved rounds (medians), 1280x720 FIFO, headless syncway "
                "1280x720@60, lavapipe\n", frames, rounds);
    for (int round = 0; round < rounds; ++round) {
        for (auto& c : configs) {
            std::string dir = run_capture("mktemp -d");
            dir.erase(dir.find_last_not_of('\n') + 1);
            const bool vkcube = std::string(c.scene) == "vkcube";
            std::string client = vkcube ? std::string("'") + self + "' --cpu-of vkcube-wayland --c " + std::to_string(frames)
                                        : std::string("'") + self + "' --client " + c.scene + " " + std::to_string(frames);
            std::string cmd = "env -u WAYLAND_DISPLAY -u DISPLAY XDG_RUNTIME_DIR=" + dir + " LP_NUM_THREADS=" + c.threads +
                              " VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json NODEVICE_SELECT=1 '" + syncway +
                              "' --backend headless --output 1280x720@60 " +
                              (std::string(c.wsi) == "mesa" ? "--no-vulkan-layer " : "") + "-- " + client + " 2>/dev/null";
            std::string out = run_capture(cmd);
            run_capture("rm -rf '" + dir + "'");
            std::array<double, 4> r{};
            if (vkcube) {
                int status = 0;
                double cpu = 0, wall = 0;
                if (std::sscanf(line_with(out, "CPUOF ").c_str(), "status %d cpu_s %lf wall_s %lf", &status, &cpu, &wall) == 3 &&
                    status == 0)
                    c.runs.push_back({frames / wall, cpu * 1000 / frames, 0, 0});
            } else if (std::sscanf(line_with(out, "RESULT ").c_str(), "fps %lf cpu_ms_per_frame %lf p50_ms %lf p99_ms %lf",
                                   &r[0], &r[1], &r[2], &r[3]) == 4) {
                c.runs.push_back(r);
            }
            std::fprintf(stderr, "round %d %s LP%s %s done\n", round + 1, c.scene, c.threads, c.wsi);
        }
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
    };
    std::printf("%-7s %-2s %-6s %7s %12s %9s %9s  %s\n", "scene", "LP", "wsi", "fps", "cpu ms/frame", "p50 ms", "p99 ms", "runs");
    for (size_t i = 0; i < configs.size(); ++i) {
        const auto& c = configs[i];
        std::array<double, 4> m{};
        for (int k = 0; k < 4; ++k) {
            std::vector<double> v;
            for (const auto& r : c.runs)
                v.push_back(r[k]);
            m[k] = median(v);
        }
        if (std::string(c.scene) == "vkcube")
            std::printf("%-7s %-2s %-6s %7.1f %12.2f %9s %9s  %zu (cpu incl. startup)\n", c.scene, c.threads, c.wsi, m[0],
                        m[1], "-", "-", c.runs.size());
        else
            std::printf("%-7s %-2s %-6s %7.1f %12.2f %9.2f %9.2f  %zu\n", c.scene, c.threads, c.wsi, m[0], m[1], m[2], m[3],
                        c.runs.size());
    }
    return 0;
}
