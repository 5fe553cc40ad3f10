// Per-client resource accounting: what each client holds in the compositor (imported
// timelines, held commits, armed waits, linux-dmabuf fds), checked against ClientLimits, and
// the fds all clients hold together, checked against the process's fd limit less the
// headroom. A Charge is the right to hold something; it is given back when it goes.
//
// No wlroots here: clients are opaque keys.
#pragma once

#include "options.hpp"

#include <syncway/result.hpp>

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace syncway {

enum class ClientResource { Timelines, HeldCommits, PointWaits, DmabufFds, Connection };

// File descriptors one unit of `what` costs the compositor, as bench-compositor-limits measures
// them: an imported timeline, our duplicate of the client's fd, plus the timeline's own fd in the
// embedded service when the client made it there (counted for every import, to be safe); an
// armed wait, its eventfd and the embedded service's end of it; a linux-dmabuf fd, itself.
int fds_per_unit(ClientResource what);

class ClientLedger;

class Charge {
public:
    Charge() = default;
    Charge(ClientLedger* ledger, const void* client, ClientResource what, uint32_t count)
        : ledger_(ledger), client_(client), what_(what), count_(count)
    {
    }
    Charge(Charge&& other) noexcept
        : ledger_(std::exchange(other.ledger_, nullptr)), client_(other.client_), what_(other.what_),
          count_(std::exchange(other.count_, 0))
    {
    }
    Charge& operator=(Charge&& other) noexcept
    {
        if (this != &other) {
            reset();
            ledger_ = std::exchange(other.ledger_, nullptr);
            client_ = other.client_;
            what_ = other.what_;
            count_ = std::exchange(other.count_, 0);
        }
        return *this;
    }
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge() { reset(); }
    void reset();

private:
    ClientLedger* ledger_ = nullptr;
    const void* client_ = nullptr;
    ClientResource what_ = ClientResource::Timelines;
    uint32_t count_ = 0;
};

class ClientLedger {
public:
    // fd_limit: the RLIMIT_NOFILE soft limit the process runs with.
    ClientLedger(ClientLimits limits, uint64_t fd_limit);
    ClientLedger(const ClientLedger&) = delete;
    ClientLedger& operator=(const ClientLedger&) = delete;

    // The right to hold `count` more of `what` for `client`, or an error whose message names
    // the limit that refuses it and the option that sets it.
    Result<Charge> charge(const void* client, ClientResource what, uint32_t count = 1);

    uint32_t held(const void* client, ClientResource what) const;
    // File descriptors charged to all clients together, and how many they may have.
    uint64_t fds_charged() const { return fds_charged_; }
    uint64_t fd_budget() const { return fd_budget_; }
    const ClientLimits& limits() const { return limits_; }

private:
    friend class Charge;
    void give_back(const void* client, ClientResource what, uint32_t count);

    static constexpr size_t kinds = 5;
    struct Account {
        uint32_t held[kinds] = {};
        uint32_t total() const
        {
            uint32_t sum = 0;
            for (uint32_t n : held)
                sum += n;
            return sum;
        }
    };
    ClientLimits limits_;
    uint64_t fd_budget_;
    uint64_t fds_charged_ = 0;
    std::unordered_map<const void*, Account> accounts_;
};

} // namespace syncway
