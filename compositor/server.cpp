#include "server.hpp"
#include "software_gl.hpp"
#include "fd_limit.hpp"

#include "explicit_sync/feedback_per_commit.hpp"
#include "explicit_sync/xdg_state_per_commit.hpp"
#include "hidden_damage.hpp"
#include "explicit_sync/timeline_host_setup.hpp"
#include "record/recorder.hpp"

#include "protocols/linux_dmabuf_v1.hpp"
#include "protocols/linux_drm_syncobj_v1.hpp"
#include "protocols/output_management_v1.hpp"
#include "protocols/virtual_keyboard_v1.hpp"
#include "protocols/virtual_pointer_v1.hpp"
#include "protocols/xdg_shell.hpp"

#include <algorithm>
#include <string>

namespace syncway {
namespace {

// `wlr_renderer_chosen`: WLR_RENDERER is set, and wlroots' autocreate follows it.
Result<RendererPtr> create_renderer(RendererKind kind, wlr_backend* backend, bool wlr_renderer_chosen)
{
    RendererPtr renderer;
    switch (kind) {
    case RendererKind::Auto: {
        // gles2 when the backend has a DRM (render) node, else pixman; honours WLR_RENDERER.
        renderer.reset(wlr_renderer_autocreate(backend));
        // ...but not gles2 on Mesa's software rasterizer: pixman composites faster on the CPU,
        // and llvmpipe through kms_swrast crashes on virtio-gpu without virgl (VM tier,
        // kms-virtio-auto). --renderer gles2 still forces it; WLR_RENDERER is the user's word.
        std::string driver = gl_driver_name(renderer.get());
        if (is_software_gl_driver(driver) && !wlr_renderer_chosen) {
            wlr_log(WLR_INFO, "renderer auto: the DRM device's GL driver is Mesa's software %s; using pixman "
                              "(--renderer gles2 forces GL)", driver.c_str());
            renderer.reset(wlr_pixman_renderer_create());
        }
        break;
    }
    case RendererKind::Pixman:
        renderer.reset(wlr_pixman_renderer_create());
        break;
    case RendererKind::Gles2: {
        int drm_fd = wlr_backend_get_drm_fd(backend);
        if (drm_fd < 0)
            return make_error(ENODEV, "gles2 renderer: no DRM render node to create an EGL display on "
                                      "(/dev/dri/renderD* missing?); try --renderer pixman");
        renderer.reset(wlr_gles2_renderer_create_with_drm_fd(drm_fd));
        break;
    }
    }
    if (!renderer)
        return make_error(EIO, std::string(renderer_name(kind)) + " renderer: creation failed (see the log above)");
    return renderer;
}

} // namespace

Result<std::unique_ptr<Server>> Server::create(const Options& options, const std::string& runtime_dir)
{
    std::unique_ptr<Server> server(new Server());
    if (Status status = server->init(options, runtime_dir); !status)
        return status.error();
    return server;
}

Status Server::init(const Options& options, const std::string& runtime_dir)
{
    wl_signal_init(&outputs_changed);
    wl_signal_init(&before_render);
    display.reset(wl_display_create());
    if (!display)
        return make_error(ENOMEM, "cannot create the Wayland display");

    ledger = std::make_unique<ClientLedger>(options.limits, current_fd_limit());
    if (ledger->fd_budget() == 0)
        wlr_log(WLR_ERROR, "--fd-headroom %u leaves no fds for clients under the RLIMIT_NOFILE soft limit %llu: "
                           "every connection will be refused", options.limits.fd_headroom,
                static_cast<unsigned long long>(current_fd_limit()));
    connection_gate = std::make_unique<ConnectionGate>(display.get(), *ledger);
    commit_gate = std::make_unique<CommitGate>(display.get(), *ledger);
    inert_role_guard = std::make_unique<InertRoleGuard>(display.get());

    env = options.env;
    auto created = create_backend(display.get(), options.backend, env);
    if (!created)
        return created.error();
    backend = std::move(created.value());

    auto made = create_renderer(options.renderer, backend.backend.get(), env.wlr_renderer);
    if (!made)
        return made.error();
    renderer = std::move(made.value());
    // Which renderer --renderer auto took is the first question about a slow or broken
    // screen (gles2 on a software GL driver, pixman where a GPU was expected).
    wlr_log(WLR_INFO, "renderer: %s (--renderer %s)", wlr_renderer_is_pixman(renderer.get()) ? "pixman" : "gles2",
            std::string(renderer_name(options.renderer)).c_str());
    wlr_renderer_init_wl_display(renderer.get(), display.get());

    allocator.reset(wlr_allocator_autocreate(backend.backend.get(), renderer.get()));
    if (!allocator)
        return make_error(EIO, std::string(backend_name(backend.kind)) +
                                   " backend: no buffer allocator fits it and the renderer");
    bool pixman = wlr_renderer_is_pixman(renderer.get());
    if (!pixman && (options.buffer_heap.kind == heaps::HeapSelection::Kind::Named ||
                    options.buffer_heap.kind == heaps::HeapSelection::Kind::Properties))
        return make_error(EINVAL, "--buffer-heap " + heaps::describe(options.buffer_heap) +
                                      ": heap framebuffers are for the pixman renderer; gles2 draws into its "
                                      "GPU's buffers (use --renderer pixman, or --buffer-heap none)");
    output_buffers = std::make_unique<OutputBuffers>(options.buffer_heap, heaps::AllocatorPaths{}, allocator.get(),
                                                     pixman);

    output_layout.reset(wlr_output_layout_create());
    scene.reset(wlr_scene_create());
    wlr_scene_attach_output_layout(scene.get(), output_layout.get());
    // After the scene's own listener (registered above), which creates the scene output.
    layout_add_.connect(&output_layout->events.add, [this](void* data) {
        refresh_surface_outputs(static_cast<wlr_output_layout_output*>(data)->output);
    });
    window_layer = wlr_scene_tree_create(&scene->node);

    auto fallback = SigbusFallback::create();
    if (!fallback)
        return fallback.error();
    shm_guard = std::make_unique<ShmReadGuard>(display.get(), *commit_gate, std::move(fallback.value()));
    shm_guard->set_unshrinkable_query(is_linux_dmabuf_v1_buffer);

    seat = std::make_unique<Seat>(*this);

    // Globals implemented entirely by wlroots, owned by the display.
    compositor = wlr_compositor_create(display.get(), renderer.get());  // + wl_subcompositor
    wlr_data_device_manager_create(display.get());
    wlr_xdg_output_manager_v1_create(display.get(), output_layout.get());
    wlr_screencopy_manager_v1_create(display.get());
    wlr_viewporter_create(display.get());
    presentation = wlr_presentation_create(display.get(), backend.backend.get());
    wlr_scene_set_presentation(scene.get(), presentation);
    feedback_per_commit = std::make_unique<FeedbackPerCommit>(*commit_gate, presentation);
    xdg_state_per_commit = std::make_unique<XdgStatePerCommit>(*commit_gate);

    syncobj_mode = options.syncobj.value_or(SyncobjMode::Auto);
    timelines = open_timeline_host(syncobj_mode, runtime_dir, env.syncobj_dev);

    output_scale = options.scale;
    direct_scanout = options.direct_scanout;
    test_ignore_acquire = options.test_ignore_acquire;
    install_protocols(options);
    if (recorder && !recorder->ok())
        return make_error(EIO, "--record " + options.record_dir + ": cannot record there (see the log above)");

    new_output_.connect(&backend.backend->events.new_output,
                        [this](void* data) { handle_new_output(static_cast<wlr_output*>(data)); });
    new_input_.connect(&backend.backend->events.new_input,
                       [this](void* data) { seat->add_device(static_cast<wlr_input_device*>(data)); });

    // DRM connectors appear while the backend starts: only sizes the user asked for apply to
    // them, one per connector in the backend's order (the rest keep their preferred mode).
    if (backend.kind == BackendKind::Drm)
        pending_specs_.assign(options.outputs.begin(), options.outputs.end());
    if (!wlr_backend_start(backend.backend.get()))
        return make_error(EIO, std::string(backend_name(backend.kind)) + " backend: failed to start (see the log above)");

    std::vector<OutputSpec> specs = options.outputs;
    if (specs.empty())
        specs.push_back(OutputSpec{});
    if (backend.kind != BackendKind::Drm)
        pending_specs_.assign(specs.begin(), specs.end());
    if (Status status = request_outputs(backend, specs); !status)
        return status;
    starting_ = false;
    if (startup_error_)
        return *startup_error_;
    if (outputs.empty() && backend.kind != BackendKind::Drm)
        return make_error(EIO, std::string(backend_name(backend.kind)) + " backend: no output could be enabled");
    return Ok{};
}

void Server::install_protocols(const Options& options)
{
    // Before linux-drm-syncobj-v1, so it outlives it and sees the last release points.
    if (!options.record_dir.empty() || !options.screenshot.empty() || options.frames > 0)
        recorder = &install<Recorder>(options);
    install<HiddenDamage>();
    install<XdgShell>();
    install<VirtualPointerV1>();
    install<VirtualKeyboardV1>();
    install<OutputManagementV1>();
    install<LinuxDrmSyncobjV1>();
    install<LinuxDmabufV1>();
}

Server::~Server()
{
    if (!display)
        return;
    wl_display_destroy_clients(display.get());
    connection_gate.reset();
    inert_role_guard.reset();
    while (!protocols_.empty())
        protocols_.pop_back();
    timelines.reset();
    feedback_per_commit.reset();
    xdg_state_per_commit.reset();
    new_output_.disconnect();
    new_input_.disconnect();
    layout_add_.disconnect();
    backend.backend.reset();  // destroys outputs (and their Output objects through remove_output)
    backend.session.reset();
    outputs.clear();
    seat.reset();
    shm_guard.reset();
    commit_gate.reset();
    // Layout before scene: wlroots 0.15's scene/output_layout.c listens for the scene's
    // destruction on the layout's destroy signal, so a layout outliving its scene reads the
    // freed scene when it goes (a crash at exit, seen with MALLOC_PERTURB_).
    output_layout.reset();
    scene.reset();
    output_buffers.reset();
    allocator.reset();
    renderer.reset();
    display.reset();
}

Result<std::string> Server::add_socket(const std::string& name)
{
    if (name.empty()) {
        const char* chosen = wl_display_add_socket_auto(display.get());
        if (!chosen)
            return make_error(EADDRINUSE, std::string("cannot create a Wayland socket in XDG_RUNTIME_DIR '") +
                                              env.xdg_runtime_dir + "' (wayland-0..32 all taken?)");
        return std::string(chosen);
    }
    if (wl_display_add_socket(display.get(), name.c_str()) != 0)
        return make_error(EADDRINUSE, "cannot listen on socket '" + name + "' in XDG_RUNTIME_DIR '" +
                                          env.xdg_runtime_dir + "' (in use by another compositor?)");
    return name;
}

void Server::handle_new_output(wlr_output* wlr_output)
{
    std::optional<OutputSpec> spec;
    if (!pending_specs_.empty()) {
        spec = pending_specs_.front();
        pending_specs_.pop_front();
    }
    auto output = std::make_unique<Output>(*this, wlr_output, spec);
    if (Status enabled = output->enable(); !enabled) {
        // The wlr_output stays unused. A heap the user named that cannot serve it ends the
        // start-up: running with that output left out would hide the error.
        wlr_log(WLR_ERROR, "output %s: %s", wlr_output->name, enabled.error().message.c_str());
        if (starting_ && output->buffers_refused() && !startup_error_)
            startup_error_ = make_error(enabled.error().code,
                                        "output " + std::string(wlr_output->name) + ": " + enabled.error().message);
        return;
    }
    outputs.push_back(std::move(output));
    wlr_output_layout_add_auto(output_layout.get(), wlr_output);
    wl_signal_emit(&outputs_changed, nullptr);
}

void Server::remove_output(Output* output)
{
    std::erase_if(outputs, [&](auto& o) { return o.get() == output; });
    wl_signal_emit(&outputs_changed, nullptr);
    // Nested: closing the last window ends the session, as users expect of a window.
    bool nested = backend.kind == BackendKind::Wayland || backend.kind == BackendKind::X11;
    if (nested && outputs.empty() && backend.backend)
        terminate();
}

void Server::refresh_surface_outputs(wlr_output* output)
{
    // wlroots 0.15's scene gives each surface a primary output (the one whose frames send its
    // frame callbacks) only when a node or a scene output moves, not when a scene output is
    // created. A window on an output turned on again would keep none and never get a frame
    // callback: a client drawing on them would stop for good. Moving the new scene output
    // one pixel and back makes the scene assign them (its whole area is damaged anyway).
    wlr_scene_output* scene_output = wlr_scene_get_scene_output(scene.get(), output);
    if (!scene_output)
        return;
    int x = scene_output->x, y = scene_output->y;
    wlr_scene_output_set_position(scene_output, x + 1, y);
    wlr_scene_output_set_position(scene_output, x, y);
}

wlr_output* Server::output_for_new_window() const
{
    wlr_cursor* cursor = seat->cursor().wlr();
    if (wlr_output* under = wlr_output_layout_output_at(output_layout.get(), cursor->x, cursor->y))
        return under;
    // Outputs turned off (out of the layout) have no place to put a window.
    for (auto& output : outputs)
        if (output->on())
            return output->wlr();
    return nullptr;
}

} // namespace syncway
