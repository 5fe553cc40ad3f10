#include "service_timeline.hpp"

namespace syncway::syncobj {

Result<PointWait> ServiceTimeline::wait(uint64_t point)
{
    auto efd = make_wait_eventfd();
    if (!efd)
        return efd.error();
    auto w = std::make_unique<ServicePointWait>(std::move(efd.value()), wakes_);
    if (auto st = timeline_->wait(*w, point, core::kWaitForSubmit); !st)
        return st.error();
    return PointWait(std::move(w));
}

Result<PointStatus> ServiceTimeline::query(uint64_t point) const { return timeline_->info(point); }
Result<uint64_t> ServiceTimeline::last_signaled() const { return timeline_->query(false); }
Result<uint64_t> ServiceTimeline::last_submitted() const { return timeline_->query(true); }

Status ServiceTimeline::signal(uint64_t point)
{
    // The signal may resolve waits whose owners drop this timeline: keep it alive meanwhile.
    auto keep = timeline_;
    keep->signal(point);
    return Ok{};
}

} // namespace syncway::syncobj
