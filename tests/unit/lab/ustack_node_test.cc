#include "daemon/lab/ustack_node.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::lab {
namespace {

using ::testing::ElementsAre;

TEST(UstackArgvTest, CarriesTheNodesAddressRoutesRingsAndServices) {
  nslab::v1::Topology topology;
  auto* node = topology.add_nodes();
  node->set_name("s");
  node->set_kind(nslab::v1::NODE_KIND_USTACK);
  auto* route = node->add_routes();
  route->set_to("default");
  route->set_via("10.0.0.1");
  node->mutable_ring()->set_rx(64);
  auto* service = node->add_services();
  service->set_udp(7);
  service->set_app("echo");
  auto* client = node->add_services();
  client->set_tcp(5001);
  client->set_connect("10.0.0.1");
  client->set_app("source");
  client->set_bytes(1000);
  node->mutable_offloads()->set_csum(true);
  node->mutable_offloads()->set_tso(true);
  auto* link = topology.add_links();
  link->mutable_a()->set_node("k");
  link->mutable_b()->set_node("s");
  link->mutable_b()->add_addresses("10.0.0.2/24");
  link->mutable_b()->set_mac("02:00:00:00:00:02");
  link->set_mtu(9000);
  EXPECT_THAT(
      UstackArgv("/bin/nslab-ustack", topology, *node, "/run/x.sock"),
      ElementsAre("/bin/nslab-ustack", "--tap", "nsl-tap0", "--addr", "10.0.0.2/24", "--mac",
                  "02:00:00:00:00:02", "--mtu", "9000", "--route", "0.0.0.0/0,10.0.0.1",
                  "--rx-ring", "64", "--csum-offload", "--tso", "--service", "udp:7:echo",
                  "--service", "tcp:10.0.0.1:5001:source:1000", "--control", "/run/x.sock"));
}

TEST(UstackArgvTest, CarriesOneFaultPerPortWithItsNumber) {
  nslab::v1::Topology topology;
  auto* node = topology.add_nodes();
  node->set_name("s");
  node->set_kind(nslab::v1::NODE_KIND_USTACK);
  const auto add = [&](uint32_t port, const std::string& app, const std::string& mode,
                       uint64_t bytes, uint64_t rate) {
    auto* service = node->add_services();
    service->set_tcp(port);
    service->set_app(app);
    if (!mode.empty()) {
      service->mutable_fault()->set_mode(mode);
      service->mutable_fault()->set_bytes(bytes);
      service->mutable_fault()->set_rate(rate);
    }
    return service;
  };
  add(80, "http", "close-wait", 0, 0);
  add(81, "echo", "reset-after", 1000, 0);
  add(82, "discard", "slow-read", 0, 4096);
  add(82, "sink", "slow-read", 0, 4096)->set_connect("10.0.0.1");  // same port: one --fault
  add(83, "echo", "", 0, 0);
  const std::vector<std::string> argv = UstackArgv("nslab-ustack", topology, *node, "/run/x.sock");
  std::vector<std::string> faults;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--fault") {
      faults.push_back(argv[i + 1]);
    }
  }
  EXPECT_THAT(faults, ElementsAre("80:close-wait", "81:reset-after:1000", "82:slow-read:4096"));
}

TEST(MacFromReadyLineTest, TakesTheLastRunsMac) {
  const std::string output =
      "nslab-ustack: ready on nsl-tap0 (created), mac 02:00:00:00:00:01, rx ring 256, tx ring "
      "256\nsome log\n"
      "nslab-ustack: ready on nsl-tap0 (attached), mac 02:ab:cd:ef:01:23, rx ring 256, tx ring "
      "256\n";
  EXPECT_EQ(MacFromReadyLine(output), "02:ab:cd:ef:01:23");
}

TEST(MacFromReadyLineTest, NothingWithoutAWholeReadyLine) {
  EXPECT_EQ(MacFromReadyLine(""), std::nullopt);
  EXPECT_EQ(MacFromReadyLine("starting\n"), std::nullopt);
  EXPECT_EQ(MacFromReadyLine("nslab-ustack: ready on nsl-tap0 (created), mac 02:ab"), std::nullopt);
  EXPECT_EQ(MacFromReadyLine("nslab-ustack: ready on nsl-tap0 (created), mac 02:ab:cd:ef:01:zz,"),
            std::nullopt);
}

}  // namespace
}  // namespace nslab::lab
