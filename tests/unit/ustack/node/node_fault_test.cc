// Node::set_fault and faults(): which services a port reaches, what each kind refuses, and the
// faults a node starts with. The NIC's device side is one end of a socketpair; nothing is sent.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "daemon/tap/owned_fd.h"
#include "daemon/ustack/node/node.h"

namespace nslab::ustack::node {
namespace {

class IdlePort final : public driver::FramePort {
 public:
  IdlePort() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0);
    device_end_.reset(fds[0]);
    other_end_.reset(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  }
  int fd() const override { return device_end_.get(); }
  tap::VnetHeaderSize vnet_hdr_size() const override {
    return tap::VnetHeaderSize::kWithNumBuffers;
  }
  absl::Status set_offloads(bool, bool) override { return absl::OkStatus(); }

 private:
  tap::OwnedFd device_end_;
  tap::OwnedFd other_end_;
};

NodeConfig config_with(std::vector<PortFault> faults) {
  NodeConfig config;
  config.interface.mac = packet::MacAddress({0x02, 0, 0, 0, 0, 1});
  config.interface.addresses.push_back(*net::Ipv4Cidr::parse("10.0.0.1/24"));
  for (const char* service : {"tcp:7:echo", "udp:7:echo", "tcp:10.0.0.2:5001:sink"}) {
    config.services.push_back(*apps::parse_service(service));
  }
  config.faults = std::move(faults);
  return config;
}

apps::FaultSpec fault(absl::string_view text) { return *apps::parse_fault(text); }

TEST(NodeFaultTest, StartsWithTheConfiguredFaultsAndChangesThemByPort) {
  IdlePort port;
  auto node = Node::create(config_with({{7, fault("close-wait")}}), port);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)->faults(), (std::vector<PortFault>{{7, fault("close-wait")}}));

  // A client's port is its server's.
  ASSERT_TRUE((*node)->set_fault(5001, fault("slow-read:1000")).ok());
  ASSERT_TRUE((*node)->set_fault(7, fault("reset-after:100")).ok());
  EXPECT_EQ((*node)->faults(), (std::vector<PortFault>{{7, fault("reset-after:100")},
                                                       {5001, fault("slow-read:1000")}}));
  ASSERT_TRUE((*node)->set_fault(7, fault("clear")).ok());
  EXPECT_EQ((*node)->faults(), (std::vector<PortFault>{{5001, fault("slow-read:1000")}}));
}

TEST(NodeFaultTest, SaysWhichPortsAndModesCannotTakeAFault) {
  IdlePort port;
  auto node = Node::create(config_with({}), port);
  ASSERT_TRUE(node.ok()) << node.status();
  const absl::Status none = (*node)->set_fault(9, fault("refuse"));
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(none.message().find("port 9"), absl::string_view::npos) << none;
  EXPECT_EQ((*node)->set_fault(5001, fault("never-accept")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*node)->faults().empty());

  IdlePort other;
  EXPECT_EQ(Node::create(config_with({{8080, fault("refuse")}}), other).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nslab::ustack::node
