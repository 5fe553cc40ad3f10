#include "timeline_host_setup.hpp"

#include "../wlr.hpp"

#include <unistd.h>

namespace syncway {
namespace so = syncobj;

bool accepts_service_timelines(SyncobjMode mode) { return mode == SyncobjMode::Auto || mode == SyncobjMode::Service; }

std::unique_ptr<so::TimelineHost> open_timeline_host(SyncobjMode mode, const std::string& runtime_dir,
                                                     const std::string& syncobj_dev)
{
    std::string mode_name(syncobj_mode_name(mode));
    if (mode == SyncobjMode::Off) {
        wlr_log(WLR_INFO, "explicit sync off: linux-drm-syncobj-v1 not advertised");
        return nullptr;
    }
    so::HostOptions options;
    // Kernel-only modes host no service: the host then refuses service timelines itself.
    options.run_service = accepts_service_timelines(mode);
    if (options.run_service)
        options.socket_path = runtime_dir + "/syncway-syncobj-" + std::to_string(getpid()) + ".sock";
    options.import_kernel_timelines = mode != SyncobjMode::Service;
    options.kernel_via_syncobj_dev = mode != SyncobjMode::Drm;
    options.syncobj_dev_path = syncobj_dev;
    auto created = so::TimelineHost::create(options);
    if (!created) {
        wlr_log(WLR_ERROR, "explicit sync unavailable, linux-drm-syncobj-v1 not advertised: cannot host the "
                           "syncobj service: %s", created.error().message.c_str());
        return nullptr;
    }
    std::unique_ptr<so::TimelineHost> host = std::move(created.value());
    if (!accepts_service_timelines(mode) && host->kernel_device().empty()) {
        wlr_log(WLR_ERROR, "explicit sync unavailable, linux-drm-syncobj-v1 not advertised: --syncobj %s "
                           "needs %sa DRM render node with timeline syncobjs, none found",
                mode_name.c_str(), mode == SyncobjMode::Kernel ? "/dev/syncobj or " : "");
        return nullptr;
    }
    std::string kernel = host->kernel_device().empty()
                             ? std::string("kernel syncobj fds not accepted (no /dev/syncobj, no DRM render node "
                                           "with timeline syncobjs)")
                             : "kernel syncobj fds accepted through " + host->kernel_device() + ", waited for with " +
                                   host->kernel_wait_method();
    std::string service = accepts_service_timelines(mode)
                              ? "userspace syncobj service at " + host->socket_path() + " ($" + so::kSocketEnv + ")"
                              : std::string("userspace service timelines not accepted");
    wlr_log(WLR_INFO, "explicit sync (--syncobj %s): linux-drm-syncobj-v1 advertised; %s; %s", mode_name.c_str(),
            service.c_str(), kernel.c_str());
    return host;
}

} // namespace syncway
