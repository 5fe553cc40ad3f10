// A point on a timeline a client gave us (linux-drm-syncobj-v1's acquire and release points).
#pragma once

#include <syncobj/timeline_host.hpp>

#include <cstdint>
#include <memory>

namespace syncway {

struct TimelinePoint {
    std::shared_ptr<syncobj::HostedTimeline> timeline;
    uint64_t point = 0;
    explicit operator bool() const { return timeline != nullptr; }
};

} // namespace syncway
