// A fence: resolves once, with 0 (signaled) or an errno (failed, like a dma_fence error).
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace syncway::syncobj::core {

class Waiter;

class Fence {
public:
    using Callback = std::function<void(int error)>;

    Fence() = default;
    ~Fence();
    Fence(const Fence&) = delete;
    Fence& operator=(const Fence&) = delete;

    static std::shared_ptr<Fence> make_resolved(int error = 0)
    {
        auto f = std::make_shared<Fence>();
        f->resolve(error);
        return f;
    }

    bool resolved() const noexcept { return resolved_; }
    int error() const noexcept { return error_; }

    // Runs at once when already resolved.
    void on_resolved(Callback cb);
    // The first call wins; later ones are ignored (a fence never changes its outcome).
    void resolve(int error);

    // Whatever will resolve this fence (e.g. a wait on another timeline for a transfer) and must
    // live exactly as long as the fence.
    void set_source(std::unique_ptr<Waiter> source);

private:
    bool resolved_ = false;
    int error_ = 0;
    std::vector<Callback> callbacks_;
    std::unique_ptr<Waiter> source_;
};

using FenceRef = std::shared_ptr<Fence>;

} // namespace syncway::syncobj::core
