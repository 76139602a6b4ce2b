#include <gtest/gtest.h>

#include "daemon/ustack/packet/ipv4_address.h"
#include "daemon/ustack/packet/mac_address.h"

namespace nslab::ustack::packet {
namespace {

TEST(Ipv4AddressTest, ParsesAndFormats) {
  const auto address = Ipv4Address::parse("203.0.113.10");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(*address, Ipv4Address(203, 0, 113, 10));
  EXPECT_EQ(address->to_u32(), 0xcb00710au);
  EXPECT_EQ(address->to_string(), "203.0.113.10");
  EXPECT_EQ(Ipv4Address::from_u32(0xcb00710a), *address);
  EXPECT_EQ(Ipv4Address::parse("0.0.0.0")->to_string(), "0.0.0.0");
  EXPECT_EQ(Ipv4Address::parse("255.255.255.255")->to_string(), "255.255.255.255");
}

TEST(Ipv4AddressTest, RejectsMalformedText) {
  for (const char* text :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1.2.3.+4", "01.2.3.4", "1..3.4",
        "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.4/24", "99999999999.1.1.1", "1.2.3."}) {
    EXPECT_FALSE(Ipv4Address::parse(text).has_value()) << text;
  }
}

TEST(Ipv4AddressTest, Classifies) {
  EXPECT_TRUE(Ipv4Address(224, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Address(255, 255, 255, 255).is_broadcast());
  EXPECT_TRUE(Ipv4Address().is_unspecified());
  EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).is_loopback());
  EXPECT_LT(Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 2));
}

TEST(MacAddressTest, ParsesAndFormats) {
  const auto mac = MacAddress::parse("02:42:AC:11:00:02");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->to_string(), "02:42:ac:11:00:02");
  EXPECT_TRUE(mac->is_locally_administered());
  EXPECT_TRUE(mac->is_unicast());
  EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddress::parse("01:00:5e:00:00:01")->is_multicast());
}

TEST(MacAddressTest, RejectsMalformedText) {
  for (const char* text : {"", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02-42-ac-11-00-02",
                           "0g:42:ac:11:00:02", "02:42:ac:11:00:2", "02:42:ac:11:00:022"}) {
    EXPECT_FALSE(MacAddress::parse(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace nslab::ustack::packet
