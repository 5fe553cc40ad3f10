// The command line of `syncway`: parsed into a plain value, no wlroots involved (unit-tested).
#pragma once

#include <syncway/heaps/heap_selection.hpp>
#include <syncway/result.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace syncway {

enum class BackendKind { Auto, Headless, Wayland, X11, Drm };
enum class RendererKind { Auto, Pixman, Gles2 };
// Which timelines linux-drm-syncobj-v1 accepts (compositor/protocols/linux_drm_syncobj_v1.cpp).
enum class SyncobjMode { Auto, Kernel, Drm, Service, Off };
// --direct-scanout: whether a lone full-output client buffer may go straight to the display.
enum class ScanoutMode { Auto, Off };

struct OutputSpec {
    int32_t width = 1920;
    int32_t height = 1080;
    int32_t refresh_mhz = 60000;  // wlroots counts refresh in mHz; 0: present only on damage

    bool operator==(const OutputSpec&) const = default;
};

// What one client may hold at once in the compositor (each one costs it file descriptors or
// memory), and the file descriptors kept free for everything the accounting does not see
// (new connections, fds in flight, wlroots' own). Over a limit, the request is refused with a
// protocol error naming the limit and its option, and the client is disconnected.
struct ClientLimits {
    uint32_t timelines = 256;      // --limit-timelines: imported timelines (up to 2 fds each)
    uint32_t held_commits = 1024;  // --limit-held-commits: commits cached until they can apply
    uint32_t point_waits = 128;    // --limit-waits: armed acquire-point waits (2 fds each)
    uint32_t dmabuf_fds = 256;     // --limit-dmabuf-fds: fds in linux-dmabuf params and buffers
    uint32_t fd_headroom = 512;    // --fd-headroom: fds never handed out to client objects

    bool operator==(const ClientLimits&) const = default;
};

// The environment variables syncway reads: read once, by read_environment() at start, and
// passed from there to what needs them (nothing else in the compositor calls getenv).
struct Environment {
    std::string xdg_runtime_dir;         // XDG_RUNTIME_DIR: where sockets go
    std::string wayland_display;         // WAYLAND_DISPLAY: a compositor to nest in
    bool wayland_socket = false;         // WAYLAND_SOCKET set: the same, as an inherited fd
    std::string x_display;               // DISPLAY: an X server to nest in
    std::string syncobj;                 // SYNCWAY_SYNCOBJ: --syncobj when not given
    std::string syncobj_dev;             // SYNCWAY_SYNCOBJ_DEV: the /dev/syncobj node (tests)
    bool wlr_renderer = false;           // WLR_RENDERER set: wlroots' choice of renderer stands
    bool no_hardware_cursors = false;    // WLR_NO_HARDWARE_CURSORS=1: no cursor plane
    std::string xcursor_theme;           // XCURSOR_THEME (empty: the default theme)
    int xcursor_size = 24;               // XCURSOR_SIZE, 1..256
    std::string xdg_data_dirs;           // XDG_DATA_DIRS (for the Vulkan layer's manifest)
};

struct Options {
    BackendKind backend = BackendKind::Auto;
    RendererKind renderer = RendererKind::Auto;
    std::vector<OutputSpec> outputs;   // empty: one default OutputSpec
    std::string socket;                // empty: the first free wayland-N
    // --syncobj; unset: $SYNCWAY_SYNCOBJ, else auto (apply_environment resolves it).
    std::optional<SyncobjMode> syncobj;
    std::vector<std::string> command;  // after `--`; empty: run until signalled
    ClientLimits limits;
    // COMMAND gets syncway's Vulkan layer (wsi/: explicit sync for Vulkan swapchains).
    bool vulkan_layer = true;
    // Recording and bounded runs (compositor/record/, docs/recording.md).
    std::string record_dir;            // --record: trace.jsonl and PNGs of changed frames
    bool record_frames = true;         // --record-trace-only: no PNGs
    std::string screenshot;            // --screenshot: PNG of the first output at exit
    int64_t frames = 0;                // --frames: end after this many presented frames (0: no limit)
    int64_t timeout_ms = 0;            // --timeout: end after this long (0: no limit)
    double scale = 1.0;                // --scale: every output's scale
    // --buffer-heap: where the outputs' framebuffers come from (output_buffers.hpp).
    heaps::HeapSelection buffer_heap;  // default auto
    // --direct-scanout: KMS outputs show a lone opaque full-output client dma-buf without
    // compositing it, where the device takes it (compositor/direct_scanout.hpp).
    ScanoutMode direct_scanout = ScanoutMode::Auto;
    // Fault injection for the recorder's own tests, not in --help: apply commits without
    // waiting for their acquire points, as a broken compositor would.
    bool test_ignore_acquire = false;
    bool verbose = false;
    bool help = false;
    bool version = false;
    Environment env;  // filled by apply_environment, not by the command line
};

// "WIDTHxHEIGHT" or "WIDTHxHEIGHT@HZ" (HZ may have decimals, e.g. 59.94).
Result<OutputSpec> parse_output_spec(std::string_view text);

// args excludes argv[0]. Errors name the offending argument.
Result<Options> parse_options(std::span<const std::string_view> args);

std::string_view backend_name(BackendKind kind);
std::string_view renderer_name(RendererKind kind);
std::string_view syncobj_mode_name(SyncobjMode mode);
std::optional<SyncobjMode> syncobj_mode_from(std::string_view name);

std::string usage_text(std::string_view program);

// The process environment, read once (at the edge: main).
Environment read_environment();
// Completes `options` from `env`: stores it, and resolves --syncobj (SYNCWAY_SYNCOBJ when the
// option is absent; SYNCWAY_SYNCOBJ=off wins over it). Returns what is worth logging about it
// (an invalid value ignored, an override).
std::vector<std::string> apply_environment(Options& options, Environment env);

} // namespace syncway
