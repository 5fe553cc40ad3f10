// wp_linux_drm_syncobj_manager_v1 (linux-drm-syncobj-v1): explicit synchronization. A commit
// whose acquire point is not signaled yet is held (its surface state locked) until an eventfd
// in the event loop says it is; each commit's release point is signaled once wlroots lets go of
// that buffer. Also hosts the userspace syncobj service the timelines may come from.
#pragma once

#include "../options.hpp"

#include <memory>
#include <optional>

struct wlr_surface;

namespace syncway {

class Server;

class LinuxDrmSyncobjV1 {
public:
    // mode: --syncobj (unset: $SYNCWAY_SYNCOBJ, else auto). Advertises nothing when the mode is
    // off or no timeline backend it asks for works (logged).
    LinuxDrmSyncobjV1(Server& server, std::optional<SyncobjMode> mode);
    ~LinuxDrmSyncobjV1();
    LinuxDrmSyncobjV1(const LinuxDrmSyncobjV1&) = delete;
    LinuxDrmSyncobjV1& operator=(const LinuxDrmSyncobjV1&) = delete;

    // Whether the surface's commits carry explicit points (it has a live
    // wp_linux_drm_syncobj_surface_v1): implicit fences of its buffers are then ignored.
    bool synchronizes(wlr_surface* surface) const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace syncway
