// wp_linux_drm_syncobj_manager_v1 (linux-drm-syncobj-v1): the protocol's objects and requests,
// and its checks of each commit at the commit gate. The rest of explicit sync is in
// compositor/explicit_sync/: holding commits until their acquire point (acquire_waits.*),
// signaling release points (release_points.*), and the timeline host (timeline_host_setup.*,
// owned by the Server).
#pragma once

#include "../options.hpp"

#include <memory>

namespace syncway {

class Server;

class LinuxDrmSyncobjV1 {
public:
    // Advertises nothing when the server has no timeline host (--syncobj off, or nothing the
    // mode asks for works; logged when the host was opened).
    explicit LinuxDrmSyncobjV1(Server& server);
    ~LinuxDrmSyncobjV1();
    LinuxDrmSyncobjV1(const LinuxDrmSyncobjV1&) = delete;
    LinuxDrmSyncobjV1& operator=(const LinuxDrmSyncobjV1&) = delete;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace syncway
