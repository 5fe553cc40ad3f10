// A kernel syncobj imported from a client, with the host's semantics on top of the uapi's:
// fence errors (which WAIT and QUERY hide) and binary points (point 0: the syncobj's current
// fence, which QUERY cannot see).
#pragma once

#include "kernel_syncobj.hpp"

#include <syncobj/timeline_host.hpp>

#include <map>
#include <memory>

namespace syncway::syncobj {

class KernelTimeline final : public HostedTimeline {
public:
    // fd: the host's own duplicate of the client's syncobj fd (keeps the syncobj alive).
    KernelTimeline(UniqueFd fd, std::unique_ptr<KernelSyncobj> syncobj) noexcept
        : fd_(std::move(fd)), syncobj_(std::move(syncobj)) {}

    Result<PointWait> wait(uint64_t point) override;
    Result<PointStatus> query(uint64_t point) const override;
    Result<uint64_t> last_signaled() const override;
    Result<uint64_t> last_submitted() const override;
    Status signal(uint64_t point) override;

private:
    Result<uint64_t> query_kernel(bool last_submitted) const;
    Result<PointStatus> query_current_fence() const;
    void keep_snapshot(uint64_t point) const;
    int fence_error(uint64_t point) const;

    UniqueFd fd_;
    std::unique_ptr<KernelSyncobj> syncobj_;
    // Kernel fence errors: WAIT and QUERY count a failed fence as signaled, and once a later
    // point exists any walk of the chain drops a signaled node with its error. So each waited,
    // submitted point's fence is held in a snapshot from the wait until a query sees the point
    // resolved, which reads the error from it. Bounded: at most kMaxSnapshots per timeline (the
    // oldest go first).
    static constexpr size_t kMaxSnapshots = 64;
    mutable std::map<uint64_t, std::unique_ptr<KernelFenceSnapshot>> snapshots_;
};

} // namespace syncway::syncobj
