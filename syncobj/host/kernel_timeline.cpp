#include "kernel_timeline.hpp"

#include "../kernel/sync_file_status.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway::syncobj {

namespace {
Error kernel_error(int r, const char* what) { return make_error(-r, std::string("kernel ") + what + " failed: " + strerror(-r)); }
} // namespace

Result<PointWait> KernelTimeline::wait(uint64_t point)
{
    auto w = syncobj_->wait(point);
    if (!w)
        return w.error();
    uint64_t head = 0;
    if (point > 0 && syncobj_->query(head, true) == 0 && point <= head)
        keep_snapshot(point);
    return PointWait(std::move(w.value()));
}

Result<PointStatus> KernelTimeline::query(uint64_t point) const
{
    // QUERY reports timeline points only: a binary syncobj (an imported sync_file, say) answers
    // 0 whatever its fence does, so point 0 is asked of the fence itself.
    if (point == 0)
        return query_current_fence();
    auto head = query_kernel(true);
    if (!head)
        return head.error();
    auto done = query_kernel(false);
    if (!done)
        return done.error();
    if (point > *head)
        return PointStatus{PointState::Unsubmitted, 0};
    if (point > *done)
        return PointStatus{PointState::Pending, 0};
    if (int err = fence_error(point))
        return PointStatus{PointState::Failed, err};
    return PointStatus{PointState::Signaled, 0};
}

Result<PointStatus> KernelTimeline::query_current_fence() const
{
    std::unique_ptr<KernelFenceSnapshot> snap;
    int r = syncobj_->snapshot(0, snap);
    if (r == -EINVAL)
        return PointStatus{PointState::Unsubmitted, 0}; // no fence yet
    if (r)
        return kernel_error(r, "SYNCOBJ_TRANSFER");
    SyncFileStatus st;
    if (int s = snap->status(st))
        return kernel_error(s, "SYNC_IOC_FILE_INFO");
    if (!st.signaled)
        return PointStatus{PointState::Pending, 0};
    if (int err = syncobj_error_of(st))
        return PointStatus{PointState::Failed, err};
    return PointStatus{PointState::Signaled, 0};
}

Result<uint64_t> KernelTimeline::query_kernel(bool last_submitted) const
{
    uint64_t p = 0;
    if (int r = syncobj_->query(p, last_submitted))
        return kernel_error(r, "SYNCOBJ_QUERY");
    return p;
}

Result<uint64_t> KernelTimeline::last_signaled() const { return query_kernel(false); }
Result<uint64_t> KernelTimeline::last_submitted() const { return query_kernel(true); }

Status KernelTimeline::signal(uint64_t point)
{
    if (int r = syncobj_->signal(point))
        return kernel_error(r, "SYNCOBJ_TIMELINE_SIGNAL");
    return Ok{};
}

void KernelTimeline::keep_snapshot(uint64_t point) const
{
    if (snapshots_.count(point))
        return;
    std::unique_ptr<KernelFenceSnapshot> snap;
    if (syncobj_->snapshot(point, snap) != 0)
        return;
    if (snapshots_.size() >= kMaxSnapshots)
        snapshots_.erase(snapshots_.begin());
    snapshots_.emplace(point, std::move(snap));
}

// The error `point` (signaled) resolved with: from the snapshot taken at its wait, else from one
// taken now (which sees it only while the point is the newest on its timeline). 0 when none, or
// when it cannot be read: a check that cannot run does not turn a completed wait into a failure.
int KernelTimeline::fence_error(uint64_t point) const
{
    std::unique_ptr<KernelFenceSnapshot> snap;
    if (auto it = snapshots_.find(point); it != snapshots_.end()) {
        snap = std::move(it->second);
        snapshots_.erase(it);
    } else if (syncobj_->snapshot(point, snap) != 0) {
        return 0;
    }
    SyncFileStatus st;
    return snap->status(st) == 0 ? syncobj_error_of(st) : 0;
}

} // namespace syncway::syncobj
