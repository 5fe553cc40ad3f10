// `syncway --record DIR`: the trace of every surface commit (JSON lines, docs/recording.md) and
// a PNG of every presented frame that differs from the one before; also what --screenshot and
// --frames need (the last frame of each output, a count of presented frames).
// Installed before linux-drm-syncobj-v1 so it outlives it: the protocol's teardown signals
// the last release points, and those belong in the trace.
#pragma once

#include "commit_observer.hpp"

#include "../listener.hpp"

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace syncway {

class Server;
struct Options;

class Recorder final : public CommitObserver {
public:
    Recorder(Server& server, const Options& options);
    ~Recorder() override;
    Recorder(const Recorder&) = delete;

    // False (and logged) when the directory or trace file could not be made.
    bool ok() const { return ok_; }
    // Called once the first output has presented `frames` frames (--frames).
    void on_frames_reached(std::function<void()> callback) { frames_reached_ = std::move(callback); }
    // The run is over (`reason`: command, frames, timeout, signal, backend; `status`: the exit
    // status): writes --screenshot; the end record follows when the recorder goes, after the
    // clients, once their last release points are signaled. False if the screenshot failed.
    bool finish(const char* reason, int status);

    void sync_points(wlr_surface* surface, uint32_t seq, const std::shared_ptr<syncobj::HostedTimeline>& acquire_timeline,
                     uint64_t acquire, const syncobj::HostedTimeline* release_timeline, uint64_t release,
                     bool acquire_signaled) override;
    void acquire_resolved(wlr_surface* surface, uint32_t seq, bool signaled, int64_t woke_ns, int64_t unlock_ns,
                          int64_t applied_ns, int64_t released_ns) override;
    void releasing(wlr_buffer* buffer) override;
    void release_signaled(const syncobj::HostedTimeline* timeline, uint64_t point) override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
    bool ok_ = false;
    std::function<void()> frames_reached_;
};

} // namespace syncway
