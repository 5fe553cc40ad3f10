// The timeline host of linux-drm-syncobj-v1 (syncobj/: kernel syncobj imports and the embedded
// userspace syncobj service), opened as --syncobj asks. Owned by the Server.
#pragma once

#include "../options.hpp"

#include <syncobj/timeline_host.hpp>

#include <memory>
#include <string>

namespace syncway {

// Null when the mode is off or nothing it needs works (logged, with why): the protocol is then
// not advertised. `runtime_dir` is where the service's socket goes; `syncobj_dev`, the
// /dev/syncobj node when not the default (empty).
std::unique_ptr<syncobj::TimelineHost> open_timeline_host(SyncobjMode mode, const std::string& runtime_dir,
                                                          const std::string& syncobj_dev);

// Whether the mode takes timelines of the userspace service (else kernel syncobj fds only).
bool accepts_service_timelines(SyncobjMode mode);

} // namespace syncway
