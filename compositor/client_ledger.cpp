#include "client_ledger.hpp"

#include <cerrno>
#include <string>

namespace syncway {
namespace {

size_t index(ClientResource what) { return static_cast<size_t>(what); }

struct Described {
    const char* what;    // "imported timelines"
    const char* option;  // "--limit-timelines"
};

Described describe(ClientResource what)
{
    switch (what) {
    case ClientResource::Timelines: return {"imported timelines", "--limit-timelines"};
    case ClientResource::HeldCommits: return {"held commits (cached until they can apply)", "--limit-held-commits"};
    case ClientResource::PointWaits: return {"acquire-point waits", "--limit-waits"};
    case ClientResource::DmabufFds: return {"linux-dmabuf fds", "--limit-dmabuf-fds"};
    case ClientResource::Connection: return {"connections", nullptr};
    }
    return {"?", nullptr};
}

} // namespace

int fds_per_unit(ClientResource what)
{
    switch (what) {
    case ClientResource::Timelines: return 2;
    case ClientResource::HeldCommits: return 0;
    case ClientResource::PointWaits: return 2;
    case ClientResource::DmabufFds: return 1;
    case ClientResource::Connection: return 1;
    }
    return 0;
}

void Charge::reset()
{
    if (ledger_ && count_)
        ledger_->give_back(client_, what_, count_);
    ledger_ = nullptr;
    count_ = 0;
}

ClientLedger::ClientLedger(ClientLimits limits, uint64_t fd_limit)
    : limits_(limits), fd_budget_(fd_limit > limits.fd_headroom ? fd_limit - limits.fd_headroom : 0)
{
}

Result<Charge> ClientLedger::charge(const void* client, ClientResource what, uint32_t count)
{
    uint32_t limit = 0;
    switch (what) {
    case ClientResource::Timelines: limit = limits_.timelines; break;
    case ClientResource::HeldCommits: limit = limits_.held_commits; break;
    case ClientResource::PointWaits: limit = limits_.point_waits; break;
    case ClientResource::DmabufFds: limit = limits_.dmabuf_fds; break;
    case ClientResource::Connection: limit = 1; break;
    }
    Described d = describe(what);
    uint32_t now = held(client, what);
    if (uint64_t{now} + count > limit)
        return make_error(EMFILE, "too many " + std::string(d.what) + ": this client holds " + std::to_string(now) +
                                      ", the limit is " + std::to_string(limit) + " per client (" +
                                      (d.option ? d.option : "") + ")");
    uint64_t fds = uint64_t{count} * fds_per_unit(what);
    if (fds && fds_charged_ + fds > fd_budget_)
        return make_error(EMFILE, "the compositor is near its file descriptor limit: clients hold " +
                                      std::to_string(fds_charged_) + " fds, at most " + std::to_string(fd_budget_) +
                                      " (RLIMIT_NOFILE less --fd-headroom " + std::to_string(limits_.fd_headroom) +
                                      "); refusing " + d.what);
    accounts_[client].held[index(what)] += count;
    fds_charged_ += fds;
    return Charge(this, client, what, count);
}

uint32_t ClientLedger::held(const void* client, ClientResource what) const
{
    auto it = accounts_.find(client);
    return it == accounts_.end() ? 0 : it->second.held[index(what)];
}

void ClientLedger::give_back(const void* client, ClientResource what, uint32_t count)
{
    auto it = accounts_.find(client);
    if (it == accounts_.end())
        return;
    it->second.held[index(what)] -= count;
    fds_charged_ -= uint64_t{count} * fds_per_unit(what);
    if (it->second.total() == 0)
        accounts_.erase(it);
}

} // namespace syncway
