#include "daemon/ustack/net/routing_table.h"

#include <gtest/gtest.h>

namespace nslab::ustack::net {
namespace {

using packet::Ipv4Address;

TEST(Ipv4CidrTest, Parses) {
  const auto cidr = Ipv4Cidr::parse("10.1.2.3/16");
  ASSERT_TRUE(cidr);
  EXPECT_EQ(cidr->address, Ipv4Address(10, 1, 2, 3));
  EXPECT_EQ(cidr->prefix_len, 16);
  EXPECT_EQ(cidr->network(), Ipv4Address(10, 1, 0, 0));
  EXPECT_EQ(cidr->broadcast(), Ipv4Address(10, 1, 255, 255));
  EXPECT_EQ(Ipv4Cidr::parse("10.1.2.3")->prefix_len, 32);
  EXPECT_EQ(Ipv4Cidr::parse("0.0.0.0/0")->mask(), 0u);
  for (const char* bad : {"10.1.2.3/33", "10.1.2.3/", "10.1.2/8", "10.1.2.3/x", "/8", ""}) {
    EXPECT_FALSE(Ipv4Cidr::parse(bad)) << bad;
  }
}

TEST(RoutingTableTest, LongestPrefixWins) {
  RoutingTable table;
  table.add_connected(*Ipv4Cidr::parse("10.0.0.2/24"));
  ASSERT_TRUE(table.add_via(*Ipv4Cidr::parse("0.0.0.0/0"), Ipv4Address(10, 0, 0, 1)).ok());
  ASSERT_TRUE(table.add_via(*Ipv4Cidr::parse("192.168.0.0/16"), Ipv4Address(10, 0, 0, 254)).ok());

  const auto local = table.lookup(Ipv4Address(10, 0, 0, 7));
  ASSERT_TRUE(local);
  EXPECT_TRUE(local->connected);
  EXPECT_EQ(local->next_hop, Ipv4Address(10, 0, 0, 7));
  EXPECT_EQ(local->source, Ipv4Address(10, 0, 0, 2));

  EXPECT_EQ(table.lookup(Ipv4Address(192, 168, 3, 4))->next_hop, Ipv4Address(10, 0, 0, 254));
  EXPECT_EQ(table.lookup(Ipv4Address(8, 8, 8, 8))->next_hop, Ipv4Address(10, 0, 0, 1));
}

TEST(RoutingTableTest, NoRouteWithoutDefault) {
  RoutingTable table;
  table.add_connected(*Ipv4Cidr::parse("10.0.0.2/24"));
  EXPECT_FALSE(table.lookup(Ipv4Address(10, 0, 1, 1)));
}

TEST(RoutingTableTest, GatewayMustBeOnLink) {
  RoutingTable table;
  table.add_connected(*Ipv4Cidr::parse("10.0.0.2/24"));
  const absl::Status status =
      table.add_via(*Ipv4Cidr::parse("0.0.0.0/0"), Ipv4Address(10, 9, 0, 1));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not in a subnet"), absl::string_view::npos);
}

TEST(RoutingTableTest, SourceFollowsTheGatewaysSubnet) {
  RoutingTable table;
  table.add_connected(*Ipv4Cidr::parse("10.0.0.2/24"));
  table.add_connected(*Ipv4Cidr::parse("10.0.1.2/24"));
  ASSERT_TRUE(table.add_via(*Ipv4Cidr::parse("0.0.0.0/0"), Ipv4Address(10, 0, 1, 1)).ok());
  EXPECT_EQ(table.lookup(Ipv4Address(1, 1, 1, 1))->source, Ipv4Address(10, 0, 1, 2));
}

}  // namespace
}  // namespace nslab::ustack::net
