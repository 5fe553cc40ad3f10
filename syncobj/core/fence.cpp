#include "fence.hpp"

#include "waiter.hpp"

namespace syncway::syncobj::core {

Fence::~Fence() = default;

void Fence::on_resolved(Callback cb)
{
    if (resolved_)
        cb(error_);
    else
        callbacks_.push_back(std::move(cb));
}

void Fence::resolve(int error)
{
    if (resolved_)
        return;
    resolved_ = true;
    error_ = error;
    // Callbacks may drop the last other reference to this fence: keep them alive locally.
    auto callbacks = std::move(callbacks_);
    callbacks_.clear();
    auto source = std::move(source_);
    for (auto& cb : callbacks)
        cb(error);
}

void Fence::set_source(std::unique_ptr<Waiter> source) { source_ = std::move(source); }

} // namespace syncway::syncobj::core
