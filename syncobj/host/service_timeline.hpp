// A timeline of the host's own embedded service, imported from a client.
#pragma once

#include "../core/timeline.hpp"
#include "service_wakes.hpp"

#include <syncobj/timeline_host.hpp>

#include <memory>

namespace syncway::syncobj {

class ServiceTimeline final : public HostedTimeline {
public:
    // fd: the host's own duplicate of the client's timeline fd (keeps the timeline alive).
    ServiceTimeline(UniqueFd fd, std::shared_ptr<core::Timeline> timeline, WakeQueue& wakes) noexcept
        : fd_(std::move(fd)), timeline_(std::move(timeline)), wakes_(wakes) {}

    Result<PointWait> wait(uint64_t point) override;
    Result<PointStatus> query(uint64_t point) const override;
    Result<uint64_t> last_signaled() const override;
    Result<uint64_t> last_submitted() const override;
    Status signal(uint64_t point) override;

private:
    UniqueFd fd_;
    std::shared_ptr<core::Timeline> timeline_;
    WakeQueue& wakes_;
};

} // namespace syncway::syncobj
