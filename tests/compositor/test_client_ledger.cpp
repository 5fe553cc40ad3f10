// ClientLedger on its own: per-client limits, the fd budget shared by all clients, and charges
// given back when they go.
#include "client_ledger.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

using namespace syncway;

TEST(ClientLedger, PerClientLimitNamesItsOption)
{
    ClientLimits limits;
    limits.timelines = 3;
    ClientLedger ledger(limits, 100000);
    int a = 0, b = 0;
    std::vector<Charge> held;
    for (int i = 0; i < 3; ++i) {
        auto charge = ledger.charge(&a, ClientResource::Timelines);
        ASSERT_TRUE(charge) << i;
        held.push_back(std::move(charge.value()));
    }
    auto over = ledger.charge(&a, ClientResource::Timelines);
    ASSERT_FALSE(over);
    EXPECT_NE(over.error().message.find("--limit-timelines"), std::string::npos) << over.error().message;
    EXPECT_TRUE(ledger.charge(&b, ClientResource::Timelines)) << "another client has its own limit";
    held.pop_back();  // one given back
    EXPECT_EQ(ledger.held(&a, ClientResource::Timelines), 2u);
    EXPECT_TRUE(ledger.charge(&a, ClientResource::Timelines));
}

TEST(ClientLedger, FdBudgetIsSharedByAllClients)
{
    ClientLimits limits;
    limits.fd_headroom = 90;
    ClientLedger ledger(limits, 100);  // 10 fds for clients
    EXPECT_EQ(ledger.fd_budget(), 10u);
    int clients[3];
    std::vector<Charge> held;
    for (int& client : clients) {
        auto charge = ledger.charge(&client, ClientResource::DmabufFds, 3);
        ASSERT_TRUE(charge);
        held.push_back(std::move(charge.value()));
    }
    EXPECT_EQ(ledger.fds_charged(), 9u);
    auto over = ledger.charge(&clients[0], ClientResource::Timelines);  // 2 fds
    ASSERT_FALSE(over);
    EXPECT_NE(over.error().message.find("--fd-headroom"), std::string::npos) << over.error().message;
    EXPECT_TRUE(ledger.charge(&clients[0], ClientResource::HeldCommits)) << "held commits cost no fd";
    held.clear();
    EXPECT_EQ(ledger.fds_charged(), 0u);
    EXPECT_TRUE(ledger.charge(&clients[0], ClientResource::Timelines));
}

TEST(ClientLedger, MovedChargeIsGivenBackOnce)
{
    ClientLedger ledger(ClientLimits{}, 100000);
    int a = 0;
    std::optional<Charge> kept;
    {
        auto charge = ledger.charge(&a, ClientResource::PointWaits);
        ASSERT_TRUE(charge);
        Charge moved = std::move(charge.value());
        kept.emplace(std::move(moved));
    }
    EXPECT_EQ(ledger.held(&a, ClientResource::PointWaits), 1u);
    EXPECT_EQ(ledger.fds_charged(), 2u);
    kept.reset();
    EXPECT_EQ(ledger.held(&a, ClientResource::PointWaits), 0u);
    EXPECT_EQ(ledger.fds_charged(), 0u);
}
