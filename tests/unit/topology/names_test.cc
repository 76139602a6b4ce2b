#include "daemon/topology/names.h"

#include <gtest/gtest.h>

namespace nslab::topology {
namespace {

TEST(Names, LabAndNode) {
  EXPECT_TRUE(CheckLabName("web-behind-nat").ok());
  EXPECT_TRUE(CheckNodeName("r1").ok());
  EXPECT_FALSE(CheckLabName("").ok());
  EXPECT_FALSE(CheckLabName("Web").ok());
  EXPECT_FALSE(CheckLabName("1lab").ok());
  EXPECT_FALSE(CheckLabName("lab_x").ok());
  EXPECT_FALSE(CheckLabName("lab-").ok());
  EXPECT_FALSE(CheckLabName(std::string(33, 'a')).ok());
  EXPECT_EQ(NamespaceOf("lab", "client"), "lab-client");
}

TEST(Names, Interfaces) {
  EXPECT_TRUE(CheckInterfaceName("eth0").ok());
  EXPECT_TRUE(CheckInterfaceName("wan0.100").ok());
  EXPECT_TRUE(CheckInterfaceName(std::string(15, 'x')).ok());
  EXPECT_FALSE(CheckInterfaceName(std::string(16, 'x')).ok());
  EXPECT_FALSE(CheckInterfaceName("").ok());
  EXPECT_FALSE(CheckInterfaceName("a/b").ok());
  EXPECT_FALSE(CheckInterfaceName("a:b").ok());
  EXPECT_FALSE(CheckInterfaceName("a b").ok());
  EXPECT_FALSE(CheckInterfaceName("..").ok());
}

}  // namespace
}  // namespace nslab::topology
