#include "daemon/topology/ip_address.h"

#include <gtest/gtest.h>

namespace nslab::topology {
namespace {

TEST(IpPrefix, ParsesBothFamilies) {
  auto v4 = ParseIpPrefix("10.0.1.2/24");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->length, 24);
  EXPECT_EQ(v4->Network().ToString(), "10.0.1.0/24");
  auto v6 = ParseIpPrefix("2001:db8::1/64");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->Network().ToString(), "2001:db8::/64");
}

TEST(IpPrefix, RejectsBadInput) {
  EXPECT_FALSE(ParseIpPrefix("10.0.0.1"));  // a link address needs a prefix length
  EXPECT_TRUE(ParseIpPrefix("10.0.0.1", /*allow_bare=*/true));
  EXPECT_FALSE(ParseIpPrefix("10.0.0.1/33"));
  EXPECT_FALSE(ParseIpPrefix("10.0.0.256/24"));
  EXPECT_FALSE(ParseIpPrefix("10.0.0.1/"));
  EXPECT_FALSE(ParseIpPrefix("2001:db8::1/129"));
  EXPECT_FALSE(ParseIpPrefix("host/24"));
}

TEST(IpPrefix, Contains) {
  auto net = ParseIpPrefix("192.168.4.0/22");
  EXPECT_TRUE(net->Contains(*ParseIpAddress("192.168.7.255")));
  EXPECT_FALSE(net->Contains(*ParseIpAddress("192.168.8.0")));
  EXPECT_FALSE(net->Contains(*ParseIpAddress("::1")));
}

TEST(Mac, UnicastOnly) {
  EXPECT_TRUE(IsValidUnicastMac("02:00:00:00:00:01"));
  EXPECT_FALSE(IsValidUnicastMac("01:00:5e:00:00:01"));  // multicast
  EXPECT_FALSE(IsValidUnicastMac("02:00:00:00:00"));
  EXPECT_FALSE(IsValidUnicastMac("02-00-00-00-00-01"));
}

}  // namespace
}  // namespace nslab::topology
