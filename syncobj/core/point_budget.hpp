// How many pending points someone (a service's client) has added to chains and not seen
// resolve yet. Each point added takes a token that stays with the chain node it landed in and
// gives its count back when the node goes (it resolved and collapsed, or the chain was reset
// or closed), so the count needs nobody to report back. Shared: tokens may outlive whoever
// reads the count.
#pragma once

#include <cstdint>
#include <memory>

namespace syncway::syncobj::core {

class PointBudget {
public:
    class Token {
    public:
        Token() = default;
        Token(Token&& o) noexcept = default;
        Token& operator=(Token&& o) noexcept
        {
            give_back();
            budget_ = std::move(o.budget_);
            return *this;
        }
        Token(const Token&) = delete;
        Token& operator=(const Token&) = delete;
        ~Token() { give_back(); }
        explicit operator bool() const noexcept { return budget_ != nullptr; }

    private:
        friend class PointBudget;
        explicit Token(std::shared_ptr<PointBudget> b) : budget_(std::move(b)) { budget_->used_++; }
        void give_back() noexcept
        {
            if (budget_)
                budget_->used_--;
            budget_.reset();
        }
        std::shared_ptr<PointBudget> budget_;
    };

    uint32_t used() const noexcept { return used_; }
    static Token take(const std::shared_ptr<PointBudget>& budget) { return Token(budget); }

private:
    uint32_t used_ = 0;
};

} // namespace syncway::syncobj::core
