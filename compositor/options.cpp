#include "options.hpp"

#include <cstdlib>

#include <cerrno>
#include <charconv>
#include <optional>

namespace syncway {
namespace {

constexpr int32_t max_dimension = 16384;      // beyond any real mode; keeps buffers sane
constexpr int64_t max_refresh_mhz = 1000000;  // 1000 Hz

std::optional<int32_t> parse_dimension(std::string_view text)
{
    int32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0 ||
        value > max_dimension)
        return std::nullopt;
    return value;
}

// Decimal hertz ("60", "59.94", "144.001") to millihertz, without floating point surprises.
std::optional<int32_t> parse_refresh_mhz(std::string_view text)
{
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || (dot != std::string_view::npos && frac.empty()) || frac.size() > 3)
        return std::nullopt;
    int64_t hz = 0;
    auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), hz);
    if (ec != std::errc() || end != whole.data() + whole.size() || hz > max_refresh_mhz / 1000)
        return std::nullopt;
    int64_t mhz = hz * 1000;
    int64_t scale = 100;
    for (char c : frac) {
        if (c < '0' || c > '9')
            return std::nullopt;
        mhz += (c - '0') * scale;
        scale /= 10;
    }
    if (mhz <= 0 || mhz > max_refresh_mhz)
        return std::nullopt;
    return static_cast<int32_t>(mhz);
}

Error bad(std::string message) { return make_error(EINVAL, std::move(message)); }

constexpr uint32_t max_limit = 1u << 20;  // a limit beyond any fd table is no limit

// The options that set a ClientLimits field, with the value's allowed range.
struct LimitOption {
    std::string_view name;
    uint32_t ClientLimits::*field;
    uint32_t min;
};
constexpr LimitOption limit_options[] = {
    {"--limit-timelines", &ClientLimits::timelines, 1},
    {"--limit-held-commits", &ClientLimits::held_commits, 1},
    {"--limit-waits", &ClientLimits::point_waits, 1},
    {"--limit-dmabuf-fds", &ClientLimits::dmabuf_fds, 1},
    {"--fd-headroom", &ClientLimits::fd_headroom, 0},
};

const LimitOption* limit_option(std::string_view name)
{
    for (const LimitOption& option : limit_options)
        if (option.name == name)
            return &option;
    return nullptr;
}

std::optional<BackendKind> backend_from(std::string_view name)
{
    for (auto kind : {BackendKind::Auto, BackendKind::Headless, BackendKind::Wayland, BackendKind::X11,
                      BackendKind::Drm})
        if (backend_name(kind) == name)
            return kind;
    return std::nullopt;
}

std::optional<RendererKind> renderer_from(std::string_view name)
{
    for (auto kind : {RendererKind::Auto, RendererKind::Pixman, RendererKind::Gles2})
        if (renderer_name(kind) == name)
            return kind;
    return std::nullopt;
}

} // namespace

std::optional<SyncobjMode> syncobj_mode_from(std::string_view name)
{
    for (auto mode : {SyncobjMode::Auto, SyncobjMode::Kernel, SyncobjMode::Drm, SyncobjMode::Service, SyncobjMode::Off})
        if (syncobj_mode_name(mode) == name)
            return mode;
    return std::nullopt;
}

std::string_view syncobj_mode_name(SyncobjMode mode)
{
    switch (mode) {
    case SyncobjMode::Auto: return "auto";
    case SyncobjMode::Kernel: return "kernel";
    case SyncobjMode::Drm: return "drm";
    case SyncobjMode::Service: return "service";
    case SyncobjMode::Off: return "off";
    }
    return "?";
}

std::string_view backend_name(BackendKind kind)
{
    switch (kind) {
    case BackendKind::Auto: return "auto";
    case BackendKind::Headless: return "headless";
    case BackendKind::Wayland: return "wayland";
    case BackendKind::X11: return "x11";
    case BackendKind::Drm: return "drm";
    }
    return "?";
}

std::string_view renderer_name(RendererKind kind)
{
    switch (kind) {
    case RendererKind::Auto: return "auto";
    case RendererKind::Pixman: return "pixman";
    case RendererKind::Gles2: return "gles2";
    }
    return "?";
}

Result<OutputSpec> parse_output_spec(std::string_view text)
{
    auto fail = [&] {
        return bad("invalid --output '" + std::string(text) +
                   "': expected WIDTHxHEIGHT or WIDTHxHEIGHT@HZ, e.g. 1920x1080@60 (sizes 1.." +
                   std::to_string(max_dimension) + ", refresh up to 1000 Hz)");
    };
    auto x = text.find('x');
    if (x == std::string_view::npos)
        return fail();
    auto at = text.find('@', x);
    auto width = parse_dimension(text.substr(0, x));
    auto height = parse_dimension(text.substr(x + 1, at == std::string_view::npos ? at : at - x - 1));
    if (!width || !height)
        return fail();
    OutputSpec spec{*width, *height, 60000};
    if (at != std::string_view::npos && text.substr(at + 1) == "0") {
        spec.refresh_mhz = 0;  // headless: a frame whenever something changed, no timer
    } else if (at != std::string_view::npos) {
        auto mhz = parse_refresh_mhz(text.substr(at + 1));
        if (!mhz)
            return fail();
        spec.refresh_mhz = *mhz;
    }
    return spec;
}

// --record, --screenshot, --frames, --timeout, --scale.
Status parse_run_option(std::string_view name, std::string_view value, Options& options)
{
    std::string v(value);
    if (name == "--record" || name == "--screenshot") {
        if (value.empty())
            return bad("option '" + std::string(name) + "' needs a non-empty path");
        (name == "--record" ? options.record_dir : options.screenshot) = v;
        return Ok{};
    }
    if (name == "--frames") {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n <= 0 || n > 1000000000)
            return bad("invalid --frames '" + v + "': expected a count of frames, 1..1000000000");
        options.frames = n;
        return Ok{};
    }
    // Decimal numbers without locale or floating-point parsing surprises: digits[.digits].
    auto decimal_milli = [](std::string_view text) -> std::optional<int64_t> {
        auto dot = text.find('.');
        std::string_view whole = text.substr(0, dot);
        std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
        if (whole.empty() || whole.size() > 9 || (dot != std::string_view::npos && frac.empty()) || frac.size() > 3)
            return std::nullopt;
        int64_t milli = 0;
        for (char c : whole) {
            if (c < '0' || c > '9')
                return std::nullopt;
            milli = milli * 10 + (c - '0');
        }
        milli *= 1000;
        int64_t place = 100;
        for (char c : frac) {
            if (c < '0' || c > '9')
                return std::nullopt;
            milli += (c - '0') * place;
            place /= 10;
        }
        return milli;
    };
    auto milli = decimal_milli(value);
    if (name == "--timeout") {
        if (!milli || *milli <= 0)
            return bad("invalid --timeout '" + v + "': expected seconds > 0, e.g. 30 or 2.5");
        options.timeout_ms = *milli;
        return Ok{};
    }
    // --scale
    if (!milli || *milli < 250 || *milli > 8000)
        return bad("invalid --scale '" + v + "': expected a scale from 0.25 to 8, e.g. 2 or 1.5");
    options.scale = double(*milli) / 1000.0;
    return Ok{};
}

Result<Options> parse_options(std::span<const std::string_view> args)
{
    Options options;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--") {
            for (size_t j = i + 1; j < args.size(); ++j)
                options.command.emplace_back(args[j]);
            if (options.command.empty())
                return bad("'--' must be followed by a COMMAND to run");
            break;
        }
        if (arg == "-h" || arg == "--help") {
            options.help = true;
            continue;
        }
        if (arg == "-V" || arg == "--version") {
            options.version = true;
            continue;
        }
        if (arg == "-v" || arg == "--verbose") {
            options.verbose = true;
            continue;
        }
        if (arg == "--no-vulkan-layer") {
            options.vulkan_layer = false;
            continue;
        }
        if (arg == "--record-trace-only") {
            options.record_frames = false;
            continue;
        }
        if (arg == "--test-fault=ignore-acquire") {
            options.test_ignore_acquire = true;
            continue;
        }

        // Options with a value: "--name VALUE" or "--name=VALUE".
        std::string_view name = arg;
        std::optional<std::string_view> value;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        bool takes_value = name == "--backend" || name == "--renderer" || name == "--output" ||
                           name == "--socket" || name == "--syncobj" || limit_option(name) || name == "--record" ||
                           name == "--screenshot" || name == "--frames" || name == "--timeout" || name == "--scale" ||
                           name == "--buffer-heap" || name == "--direct-scanout";
        if (!takes_value) {
            if (arg.starts_with("-"))
                return bad("unknown option '" + std::string(arg) + "' (see --help)");
            return bad("unexpected argument '" + std::string(arg) +
                       "' (to run a command, put it after '--')");
        }
        if (!value) {
            if (i + 1 >= args.size())
                return bad("option '" + std::string(name) + "' needs a value (see --help)");
            value = args[++i];
        }

        if (name == "--backend") {
            auto kind = backend_from(*value);
            if (!kind)
                return bad("invalid --backend '" + std::string(*value) +
                           "': expected auto, headless, wayland, x11 or drm");
            options.backend = *kind;
        } else if (name == "--renderer") {
            auto kind = renderer_from(*value);
            if (!kind)
                return bad("invalid --renderer '" + std::string(*value) +
                           "': expected auto, pixman or gles2");
            options.renderer = *kind;
        } else if (name == "--output") {
            auto spec = parse_output_spec(*value);
            if (!spec)
                return spec.error();
            options.outputs.push_back(spec.value());
        } else if (name == "--syncobj") {
            options.syncobj = syncobj_mode_from(*value);
            if (!options.syncobj)
                return bad("invalid --syncobj '" + std::string(*value) +
                           "': expected auto, kernel, drm, service or off");
        } else if (const LimitOption* limit = limit_option(name)) {
            uint32_t number = 0;
            auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), number);
            if (value->empty() || ec != std::errc() || end != value->data() + value->size() || number < limit->min ||
                number > max_limit)
                return bad("invalid " + std::string(name) + " '" + std::string(*value) + "': expected a number from " +
                           std::to_string(limit->min) + " to " + std::to_string(max_limit));
            options.limits.*(limit->field) = number;
        } else if (name == "--buffer-heap") {
            auto selection = heaps::parse_heap_selection(*value);
            if (!selection)
                return selection.error();
            options.buffer_heap = selection.value();
        } else if (name == "--direct-scanout") {
            if (*value == "auto")
                options.direct_scanout = ScanoutMode::Auto;
            else if (*value == "off")
                options.direct_scanout = ScanoutMode::Off;
            else
                return bad("invalid --direct-scanout '" + std::string(*value) + "': expected auto or off");
        } else if (name == "--socket") {
            if (value->empty() || value->find('/') != std::string_view::npos)
                return bad("invalid --socket '" + std::string(*value) +
                           "': expected a plain name such as wayland-5 (no '/')");
            options.socket = *value;
        } else if (Status s = parse_run_option(name, *value, options); !s) {
            return s.error();
        }
    }
    return options;
}

std::string usage_text(std::string_view program)
{
    std::string p(program);
    return "Usage: " + p + " [OPTIONS] [-- COMMAND [ARGS...]]\n"
           "\n"
           "A small Wayland compositor (wlroots 0.15) built for explicit synchronization.\n"
           "\n"
           "Options:\n"
           "  --backend auto|headless|wayland|x11|drm\n"
           "                       where outputs live (default auto: nested in Wayland if\n"
           "                       WAYLAND_DISPLAY is set, else in X11 if DISPLAY is set, else\n"
           "                       KMS if a DRM card and a seat are available, else headless)\n"
           "  --renderer auto|pixman|gles2\n"
           "                       default auto: gles2 when a DRM render node exists, else pixman\n"
           "                       (pixman too when that node's GL is Mesa's software kms_swrast)\n"
           "  --output WxH[@HZ]    an output of that size (repeatable; default 1920x1080@60;\n"
           "                       @0: headless, a frame only when something changed).\n"
           "                       Headless: virtual outputs; nested: one window each;\n"
           "                       drm: the Nth --output sets the Nth connector's mode: its listed\n"
           "                       mode of that size with the closest refresh, else a custom mode\n"
           "                       (a CVT timing), else, if refused, its preferred mode (logged);\n"
           "                       connectors without an --output use their preferred mode\n"
           "  --buffer-heap auto|none|NAME|PROPERTY[,PROPERTY...]\n"
           "                       where the outputs' framebuffers (and the cursor plane's\n"
           "                       buffer) come from, with the pixman renderer. auto (default):\n"
           "                       the best dma-buf heap for CPU rendering (/dev/dma_heap/system\n"
           "                       first), else udmabuf, else memfd (headless; not on KMS, which\n"
           "                       then keeps DRM dumb buffers); nested outputs use memfds (wl_shm);\n"
           "                       on KMS only buffers the device imports. NAME: that heap, e.g.\n"
           "                       system; PROPERTY: cacheable, uncacheable, contiguous,\n"
           "                       non-contiguous, matched against heap names (e.g.\n"
           "                       contiguous,uncacheable). A named heap or properties that no\n"
           "                       heap meets, that cannot be opened or allocate, or that the\n"
           "                       device refuses, stop start-up with an error naming it.\n"
           "                       none: wlroots' own allocator. Each output logs its choice\n"
           "  --direct-scanout auto|off\n"
           "                       auto (default): on KMS, a frame whose only visible thing is\n"
           "                       an opaque client dma-buf covering the output exactly (size,\n"
           "                       transform, no cursor drawn in software) puts that buffer on\n"
           "                       the primary plane instead of compositing it, if the device\n"
           "                       takes it (else composited; the reason logged once). Never on\n"
           "                       headless or nested outputs. off: always composite\n"
           "  --socket NAME        listen on $XDG_RUNTIME_DIR/NAME (default: first free wayland-N)\n"
           "  --syncobj auto|kernel|drm|service|off\n"
           "                       explicit sync (linux-drm-syncobj-v1): when the global is\n"
           "                       advertised and which timeline fds it accepts.\n"
           "                       auto (default): always advertised; accepts the timelines of\n"
           "                       the userspace syncobj service it hosts (its socket is given to\n"
           "                       COMMAND in $SYNCWAY_SYNCOBJ_SOCKET) and kernel syncobj fds\n"
           "                       where /dev/syncobj (the RFC device) or a DRM render node with\n"
           "                       timeline syncobjs exists (Linux >= 5.2; without\n"
           "                       SYNCOBJ_EVENTFD, before 6.6, a thread waits for them);\n"
           "                       service: always advertised, the service's timelines only;\n"
           "                       kernel: advertised only with /dev/syncobj or such a render\n"
           "                       node, kernel syncobj fds only (no service socket); drm: the\n"
           "                       same through a render node only; off: never advertised.\n"
           "                       Any other fd is refused with invalid_timeline.\n"
           "                       $SYNCWAY_SYNCOBJ=MODE is the default when the option is absent;\n"
           "                       SYNCWAY_SYNCOBJ=off is a kill switch that wins over the option\n"
           "  --no-vulkan-layer    COMMAND runs without syncway's Vulkan layer (by default Vulkan\n"
           "                       swapchains on devices without a DRM node, e.g. lavapipe, get\n"
           "                       explicit sync from VK_LAYER_SYNCWAY_explicit_sync)\n"
           "  --record DIR         record into DIR (created if missing): trace.jsonl, one JSON\n"
           "                       record per surface commit (client, role, buffer, acquire and\n"
           "                       release points, times), and OUTPUT-SEQUENCE.png for every\n"
           "                       presented frame that differs from the one before; check it\n"
           "                       with syncway-check (docs/recording.md)\n"
           "  --record-trace-only  with --record: the trace without PNGs (no frame encoding in the\n"
           "                       compositor's loop, for timing measurements)\n"
           "  --frames N           end the run once the first output presented N frames (exit 0)\n"
           "  --timeout SECONDS    end the run after SECONDS (exit 124)\n"
           "  --screenshot FILE    write the first output's last frame to FILE (PNG) at exit\n"
           "  --scale S            scale of every output (0.25 to 8, default 1)\n"
           "  -v, --verbose        debug logging\n"
           "  -h, --help           show this help and exit\n"
           "  -V, --version        show the version and exit\n"
           "\n"
           "Per-client limits (over one, the request gets a protocol error naming the limit and\n"
           "the client is disconnected; nothing it held stays behind):\n"
           "  --limit-timelines N  timelines one client may import at once through\n"
           "                       linux-drm-syncobj-v1 (default 256; each costs up to 2 fds)\n"
           "  --limit-held-commits N\n"
           "                       commits of one client cached until they can apply: held\n"
           "                       back for an acquire point or a dma-buf's writers, queued\n"
           "                       behind one that is, or a synchronized subsurface's waiting\n"
           "                       for its parent (default 1024; about 420 bytes each)\n"
           "  --limit-waits N      acquire points one client has us wait for at once (one per\n"
           "                       surface with held commits; default 128; 2 fds each)\n"
           "  --limit-dmabuf-fds N fds one client may have in linux-dmabuf params and buffers\n"
           "                       (default 256)\n"
           "  --fd-headroom N      fds kept free below the RLIMIT_NOFILE soft limit (which syncway\n"
           "                       raises to the hard limit at start): once client objects and\n"
           "                       connections would take more, new fd-holding objects and new\n"
           "                       connections are refused with an error naming this (default 512)\n"
           "\n"
           "With '-- COMMAND [ARGS...]', COMMAND runs with WAYLAND_DISPLAY set to our socket; when\n"
           "it exits, " + p + " shuts down and exits with its status (128+N if it died of signal N).\n"
           "SIGINT or SIGTERM shut down cleanly (a running COMMAND gets SIGTERM first).\n"
           "If XDG_RUNTIME_DIR is unset or too long for a socket path, a private 0700 directory\n"
           "is created in /tmp (and removed on exit).\n"
           "\n"
           "Layout: each window fills the output it opens on; the newest is on top and has the\n"
           "keyboard focus; popups are placed where xdg-positioner asks, kept on the output.\n"
           "\n"
           "Exit status: COMMAND's status in command mode, 0 after a signal without a command\n"
           "or when --frames was reached, 124 when --timeout was reached (the trace's end record\n"
           "names which ended the run),\n"
           "1 if the compositor cannot start (the message names the backend and the reason),\n"
           "2 on bad command-line input.\n";
}

} // namespace syncway

namespace syncway {

Environment read_environment()
{
    auto text = [](const char* name) {
        const char* value = std::getenv(name);
        return std::string(value ? value : "");
    };
    Environment env;
    env.xdg_runtime_dir = text("XDG_RUNTIME_DIR");
    env.wayland_display = text("WAYLAND_DISPLAY");
    env.wayland_socket = !text("WAYLAND_SOCKET").empty();
    env.x_display = text("DISPLAY");
    env.syncobj = text("SYNCWAY_SYNCOBJ");
    env.syncobj_dev = text("SYNCWAY_SYNCOBJ_DEV");
    env.wlr_renderer = !text("WLR_RENDERER").empty();
    env.no_hardware_cursors = text("WLR_NO_HARDWARE_CURSORS") == "1";
    env.xcursor_theme = text("XCURSOR_THEME");
    if (std::string size = text("XCURSOR_SIZE"); !size.empty()) {
        int value = std::atoi(size.c_str());
        if (value > 0 && value <= 256)
            env.xcursor_size = value;
    }
    env.xdg_data_dirs = text("XDG_DATA_DIRS");
    return env;
}

std::vector<std::string> apply_environment(Options& options, Environment env)
{
    std::vector<std::string> notes;
    std::optional<SyncobjMode> from_env;
    if (!env.syncobj.empty()) {
        from_env = syncobj_mode_from(env.syncobj);
        if (!from_env)
            notes.push_back("ignoring SYNCWAY_SYNCOBJ='" + env.syncobj + "': expected auto, kernel, drm, service or off");
    }
    if (from_env == SyncobjMode::Off) {
        if (options.syncobj && *options.syncobj != SyncobjMode::Off)
            notes.push_back("SYNCWAY_SYNCOBJ=off overrides --syncobj " + std::string(syncobj_mode_name(*options.syncobj)));
        options.syncobj = SyncobjMode::Off;
    } else if (!options.syncobj) {
        options.syncobj = from_env.value_or(SyncobjMode::Auto);
    }
    options.env = std::move(env);
    return notes;
}

} // namespace syncway
