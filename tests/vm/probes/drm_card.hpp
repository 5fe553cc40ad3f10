// A DRM card node as the VM tier identifies it: by driver name (numbering is not stable),
// with what KMS offers on it.
#pragma once

#include <syncway/result.hpp>

#include <string>
#include <vector>

namespace syncway::vm {

struct DrmCard {
    std::string node;    // /dev/dri/cardN
    std::string driver;  // DRM_IOCTL_VERSION name: vgem, vkms, virtio_gpu, ...
    bool kms = false;    // has CRTCs
    int crtcs = 0, primary_planes = 0, cursor_planes = 0, overlay_planes = 0;
    std::vector<std::string> connectors;  // "Virtual-1", ...
    bool dumb_buffers = false, syncobj = false, syncobj_timeline = false;

    std::string describe() const;
};

// A plane's "type" property (DRM_PLANE_TYPE_*, -1 when unreadable) and its name
// (primary, cursor, overlay, unknown). Needs DRM_CLIENT_CAP_UNIVERSAL_PLANES on fd.
int plane_type(int fd, uint32_t plane);
std::string plane_type_name(int fd, uint32_t plane);

// Every /dev/dri/card* node, in node order.
Result<std::vector<DrmCard>> list_drm_cards();

} // namespace syncway::vm
