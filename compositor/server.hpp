// The whole compositor in one object graph (read this first): display, backend, renderer,
// allocator, scene, output layout, outputs, seat with cursor, and the protocols.
#pragma once

#include "backend.hpp"
#include "client_ledger.hpp"
#include "commit_gate.hpp"
#include "connection_gate.hpp"
#include "inert_role_guard.hpp"
#include "listener.hpp"
#include "options.hpp"
#include "output.hpp"
#include "output_buffers.hpp"
#include "seat.hpp"
#include "shm_read_guard.hpp"
#include "wlr_ptr.hpp"

#include <syncway/result.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncway {

class CommitObserver;
class FeedbackPerCommit;
class XdgStatePerCommit;
class Recorder;
namespace syncobj {
class TimelineHost;
}

class Server {
public:
    // Creates everything and starts the backend; the error names what failed and why.
    // `runtime_dir`: where our sockets go (the Wayland one is made by add_socket).
    static Result<std::unique_ptr<Server>> create(const Options& options, const std::string& runtime_dir);
    ~Server();

    // Listens on options.socket (or the first free wayland-N); returns the socket name.
    Result<std::string> add_socket(const std::string& name);
    void run() { wl_display_run(display.get()); }
    void terminate() { wl_display_terminate(display.get()); }
    wl_event_loop* event_loop() const { return wl_display_get_event_loop(display.get()); }

    // The object graph, in creation order. ~Server tears it down in the order wlroots needs
    // (clients first, then protocols, backend, seat, ...): see there.
    DisplayPtr display;
    // What each client holds, against --limit-* and the fd limit (see client_ledger.hpp).
    std::unique_ptr<ClientLedger> ledger;
    // The one place wl_surface.commit is intercepted (commit_gate.hpp); charges cached commits
    // in the ledger.
    std::unique_ptr<CommitGate> commit_gate;
    std::unique_ptr<ConnectionGate> connection_gate;
    std::unique_ptr<InertRoleGuard> inert_role_guard;
    Backend backend;
    RendererPtr renderer;
    AllocatorPtr allocator;  // wlroots' own (--buffer-heap none, and what auto falls back to)
    // Each output's allocator (--buffer-heap); outlives the backend's outputs and swapchains.
    std::unique_ptr<OutputBuffers> output_buffers;
    OutputLayoutPtr output_layout;
    ScenePtr scene;
    // No background node: the scene clears what no window covers to black, which costs a
    // pixman fill of the damage; a full-output wlr_scene_rect would cost a full-size image
    // allocation and composite per frame in wlroots 0.15's pixman renderer.
    wlr_scene_tree* window_layer = nullptr;      // toplevels, newest on top; popups inside
    std::vector<std::unique_ptr<Output>> outputs;
    std::unique_ptr<Seat> seat;
    // Every render of client buffers opens a reading of it (see shm_read_guard.hpp).
    std::unique_ptr<ShmReadGuard> shm_guard;
    // Timelines of linux-drm-syncobj-v1 (kernel syncobjs and the embedded userspace service);
    // null when --syncobj is off or nothing it asks for works.
    std::unique_ptr<syncobj::TimelineHost> timelines;
    SyncobjMode syncobj_mode = SyncobjMode::Off;
    wlr_compositor* compositor = nullptr;  // globals owned by the display
    wlr_presentation* presentation = nullptr;
    // wp_presentation feedback kept per commit for commits that wait (feedback_per_commit.hpp).
    std::unique_ptr<FeedbackPerCommit> feedback_per_commit;
    // ... and xdg-shell state (xdg_state_per_commit.hpp).
    std::unique_ptr<XdgStatePerCommit> xdg_state_per_commit;
    // --record/--screenshot/--frames (compositor/record/); null when none is asked for. The
    // recorder observes explicit-sync commits through commit_observer.
    Recorder* recorder = nullptr;
    CommitObserver* commit_observer = nullptr;
    Environment env;                     // what we read of the process environment (options.hpp)
    double output_scale = 1.0;           // --scale
    ScanoutMode direct_scanout = ScanoutMode::Auto;  // --direct-scanout
    bool test_ignore_acquire = false;    // --test-fault=ignore-acquire (the recorder's tests)

    // Protocols with code of our own (compositor/protocols/, one file each). Each is one line
    // in install_protocols(); they are destroyed, newest first, before the seat and outputs.
    template <typename Protocol, typename... Args> Protocol& install(Args&&... args)
    {
        auto protocol = std::make_shared<Protocol>(*this, std::forward<Args>(args)...);
        Protocol& ref = *protocol;
        protocols_.push_back(std::move(protocol));
        return ref;
    }

    // Called by Output when its wlr_output goes away.
    void remove_output(Output* output);
    // Toplevels are placed on the output under the cursor, else the first one that is on.
    wlr_output* output_for_new_window() const;

    // Emitted (no data) after outputs are added or removed, and after output management
    // changed them (turned on or off, moved, resized: see Output::on).
    wl_signal outputs_changed;
    // Emitted (no data) by an output about to render a frame: the last moment to change what
    // the scene shows in it (xdg_shell.cpp hides windows covered by opaque ones).
    wl_signal before_render;

private:
    Server() = default;
    Status init(const Options& options, const std::string& runtime_dir);
    void install_protocols(const Options& options);
    void handle_new_output(wlr_output* output);
    // Gives the surfaces on an output just added to the layout their outputs (see there).
    void refresh_surface_outputs(wlr_output* output);

    std::deque<OutputSpec> pending_specs_;
    // The first output whose explicitly chosen heap could not serve it while starting up:
    // start-up fails with it rather than run with an output left out.
    std::optional<Error> startup_error_;
    bool starting_ = true;  // --output sizes not yet given to new outputs
    std::vector<std::shared_ptr<void>> protocols_;
    Listener new_output_;
    Listener new_input_;
    Listener layout_add_;
};

} // namespace syncway
