#include "drm_card.hpp"

#include "probe.hpp"

#include <syncway/unique_fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace syncway::vm {

namespace {

template <auto Free> struct Deleter {
    template <typename T> void operator()(T* p) const { Free(p); }
};
using Version = std::unique_ptr<drmVersion, Deleter<drmFreeVersion>>;
using Resources = std::unique_ptr<drmModeRes, Deleter<drmModeFreeResources>>;
using PlaneResources = std::unique_ptr<drmModePlaneRes, Deleter<drmModeFreePlaneResources>>;
using Properties = std::unique_ptr<drmModeObjectProperties, Deleter<drmModeFreeObjectProperties>>;
using Property = std::unique_ptr<drmModePropertyRes, Deleter<drmModeFreeProperty>>;
using Connector = std::unique_ptr<drmModeConnector, Deleter<drmModeFreeConnector>>;

bool cap(int fd, uint64_t which)
{
    uint64_t value = 0;
    return drmGetCap(fd, which, &value) == 0 && value != 0;
}

} // namespace

int plane_type(int fd, uint32_t plane)
{
    Properties props(drmModeObjectGetProperties(fd, plane, DRM_MODE_OBJECT_PLANE));
    if (!props)
        return -1;
    for (uint32_t i = 0; i < props->count_props; ++i) {
        Property prop(drmModeGetProperty(fd, props->props[i]));
        if (prop && std::strcmp(prop->name, "type") == 0)
            return static_cast<int>(props->prop_values[i]);
    }
    return -1;
}

std::string plane_type_name(int fd, uint32_t plane)
{
    switch (plane_type(fd, plane)) {
    case DRM_PLANE_TYPE_PRIMARY: return "primary";
    case DRM_PLANE_TYPE_CURSOR: return "cursor";
    case DRM_PLANE_TYPE_OVERLAY: return "overlay";
    }
    return "unknown";
}

namespace {

Result<DrmCard> inspect(const std::string& node)
{
    UniqueFd fd(::open(node.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd)
        return sys_error("open " + node);
    DrmCard card;
    card.node = node;
    Version version(drmGetVersion(fd.get()));
    if (!version)
        return sys_error("DRM_IOCTL_VERSION on " + node);
    card.driver.assign(version->name, version->name_len);
    card.dumb_buffers = cap(fd.get(), DRM_CAP_DUMB_BUFFER);
    card.syncobj = cap(fd.get(), DRM_CAP_SYNCOBJ);
    card.syncobj_timeline = cap(fd.get(), DRM_CAP_SYNCOBJ_TIMELINE);

    Resources res(drmModeGetResources(fd.get()));
    if (!res || res->count_crtcs == 0)
        return card;
    card.kms = true;
    card.crtcs = res->count_crtcs;
    for (int i = 0; i < res->count_connectors; ++i) {
        // The current state only: a full probe (drmModeGetConnector) costs seconds under TCG.
        Connector conn(drmModeGetConnectorCurrent(fd.get(), res->connectors[i]));
        if (!conn)
            continue;
        const char* type = drmModeGetConnectorTypeName(conn->connector_type);
        card.connectors.push_back(std::string(type ? type : "Unknown") + "-" +
                                  std::to_string(conn->connector_type_id));
    }
    drmSetClientCap(fd.get(), DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
    PlaneResources planes(drmModeGetPlaneResources(fd.get()));
    for (uint32_t i = 0; planes && i < planes->count_planes; ++i) {
        switch (plane_type(fd.get(), planes->planes[i])) {
        case DRM_PLANE_TYPE_PRIMARY: ++card.primary_planes; break;
        case DRM_PLANE_TYPE_CURSOR: ++card.cursor_planes; break;
        case DRM_PLANE_TYPE_OVERLAY: ++card.overlay_planes; break;
        default: break;
        }
    }
    return card;
}

} // namespace

std::string DrmCard::describe() const
{
    std::string s = node + ": driver " + driver;
    if (kms) {
        s += ", KMS: " + std::to_string(crtcs) + " crtc, planes primary " + std::to_string(primary_planes) +
             " cursor " + std::to_string(cursor_planes) + " overlay " + std::to_string(overlay_planes) +
             ", connectors";
        for (auto& c : connectors)
            s += " " + c;
    } else {
        s += ", no KMS";
    }
    s += std::string(", dumb buffers ") + (dumb_buffers ? "yes" : "no") + ", syncobj " + (syncobj ? "yes" : "no") +
         ", timeline syncobj " + (syncobj_timeline ? "yes" : "no");
    return s;
}

Result<std::vector<DrmCard>> list_drm_cards()
{
    std::unique_ptr<DIR, Deleter<::closedir>> dir(::opendir("/dev/dri"));
    if (!dir)
        return sys_error("opendir /dev/dri");
    std::vector<std::string> nodes;
    while (dirent* e = ::readdir(dir.get()))
        if (std::strncmp(e->d_name, "card", 4) == 0)
            nodes.push_back(std::string("/dev/dri/") + e->d_name);
    // card10 after card9.
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    std::vector<DrmCard> cards;
    for (auto& node : nodes) {
        auto card = inspect(node);
        if (!card)
            return card.error();
        cards.push_back(std::move(*card));
    }
    return cards;
}

} // namespace syncway::vm
