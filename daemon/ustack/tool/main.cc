// nslab-ustack: the participant node's userspace stack on a TAP device, alone or started by
// nslabd inside a lab node's namespace.
//
//   nslab-ustack --tap tap0 --addr 10.0.0.2/24 --route default,10.0.0.1
//       --service udp:7:echo --service tcp:7:echo --service tcp:19:chargen
//       --fault 19:reset-after:1000 --control /run/ustack.sock
//
// Runs in the calling process's network namespace. Attaches to the TAP if it exists (a
// persistent one from `ip tuntap add` or the daemon), otherwise creates it; either way brings
// it up. Exits cleanly on SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/control/control_server.h"
#include "daemon/ustack/driver/tap_port.h"
#include "daemon/ustack/node/node.h"

namespace nslab::ustack {
namespace {

struct CommandLine {
  std::string tap;
  std::vector<std::string> addresses;
  std::vector<std::string> routes;
  std::string mac;
  std::uint32_t mtu = 1500;
  driver::NicSettings nic;
  std::vector<std::string> services;
  std::vector<std::string> faults;
  std::string control;
};

// Locally administered, unicast: never a vendor's address, never the TAP's own.
packet::MacAddress random_mac() {
  std::random_device random;
  std::array<std::uint8_t, 6> octets{};
  for (auto& octet : octets) {
    octet = static_cast<std::uint8_t>(random());
  }
  octets[0] = static_cast<std::uint8_t>((octets[0] & 0xfe) | 0x02);
  return packet::MacAddress(octets);
}

absl::StatusOr<node::StaticRoute> parse_route(const std::string& text) {
  const std::vector<std::string> parts = absl::StrSplit(text, ',');
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--route ", text, ": ", why,
                                                   " (expected DEST/LEN,GATEWAY, e.g. "
                                                   "0.0.0.0/0,10.0.0.1 or default,10.0.0.1)"));
  };
  if (parts.size() != 2) {
    return bad("not two parts");
  }
  const std::optional<net::Ipv4Cidr> destination =
      parts[0] == "default" ? net::Ipv4Cidr{{}, 0} : net::Ipv4Cidr::parse(parts[0]);
  const std::optional<packet::Ipv4Address> gateway = packet::Ipv4Address::parse(parts[1]);
  if (!destination) {
    return bad("bad destination");
  }
  if (!gateway) {
    return bad("bad gateway");
  }
  return node::StaticRoute{*destination, *gateway};
}

// PORT:MODE[:N], e.g. 80:close-wait, 80:reset-after:1000, 5001:slow-read:4096.
absl::StatusOr<node::PortFault> parse_port_fault(const std::string& text) {
  const std::size_t colon = text.find(':');
  std::uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(0, colon), &port) || port == 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fault ", text,
                     ": expected PORT:MODE[:N] with a TCP service's port, e.g. 80:close-wait or "
                     "80:reset-after:1000"));
  }
  absl::StatusOr<apps::FaultSpec> fault = apps::parse_fault(text.substr(colon + 1));
  if (!fault.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fault ", text, ": ", fault.status().message()));
  }
  return node::PortFault{static_cast<std::uint16_t>(port), *fault};
}

absl::StatusOr<node::NodeConfig> build_config(const CommandLine& line) {
  node::NodeConfig config;
  for (const std::string& text : line.addresses) {
    const std::optional<net::Ipv4Cidr> address = net::Ipv4Cidr::parse(text);
    if (!address) {
      return absl::InvalidArgumentError(
          absl::StrCat("--addr ", text, ": expected ADDRESS/LEN, e.g. 10.0.0.2/24"));
    }
    config.interface.addresses.push_back(*address);
  }
  if (line.mac.empty()) {
    config.interface.mac = random_mac();
  } else if (const auto mac = packet::MacAddress::parse(line.mac)) {
    config.interface.mac = *mac;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--mac ", line.mac, ": expected six hex pairs, e.g. 02:00:00:00:00:02"));
  }
  if (line.mtu < 68 || line.mtu > 9000) {
    return absl::InvalidArgumentError(absl::StrCat("--mtu ", line.mtu, ": must be 68-9000"));
  }
  config.interface.mtu = static_cast<std::uint16_t>(line.mtu);
  for (const std::string& text : line.routes) {
    absl::StatusOr<node::StaticRoute> route = parse_route(text);
    if (!route.ok()) {
      return route.status();
    }
    config.routes.push_back(*route);
  }
  for (const std::string& text : line.services) {
    absl::StatusOr<apps::ServiceSpec> service = apps::parse_service(text);
    if (!service.ok()) {
      return service.status();
    }
    config.services.push_back(*service);
  }
  for (const std::string& text : line.faults) {
    absl::StatusOr<node::PortFault> fault = parse_port_fault(text);
    if (!fault.ok()) {
      return fault.status();
    }
    config.faults.push_back(*fault);
  }
  config.nic = line.nic;
  if (absl::Status status = config.nic.validate(); !status.ok()) {
    return status;
  }
  return config;
}

int fail(const absl::Status& status) {
  std::fprintf(stderr, "nslab-ustack: %s\n", std::string(status.message()).c_str());
  return 1;
}

int run(const CommandLine& line) {
  absl::StatusOr<node::NodeConfig> config = build_config(line);
  if (!config.ok()) {
    return fail(config.status());
  }
  // Every thread started from here on inherits the mask; the signals are taken by sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<driver::TapPort> tap =
      driver::TapPort::open(line.tap, driver::TapPortOptions{line.mtu, /*up=*/true});
  if (!tap.ok()) {
    return fail(tap.status());
  }
  absl::StatusOr<std::unique_ptr<node::Node>> node = node::Node::create(*config, *tap);
  if (!node.ok()) {
    return fail(node.status());
  }
  std::unique_ptr<control::ControlServer> control;
  if (!line.control.empty()) {
    absl::StatusOr<std::unique_ptr<control::ControlServer>> server =
        control::ControlServer::start(line.control, **node);
    if (!server.ok()) {
      return fail(server.status());
    }
    control = *std::move(server);
  }
  std::thread stack_thread([&] { (*node)->run(); });
  // nslabd's `up` waits for this line (kUstackReadyLine): print it only once the TAP, the
  // services and the control socket all answer.
  std::printf("nslab-ustack: ready on %s (%s), mac %s, rx ring %u, tx ring %u\n", line.tap.c_str(),
              tap->created() ? "created" : "attached", config->interface.mac.to_string().c_str(),
              config->nic.rx_ring, config->nic.tx_ring);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  // The control server first: its calls in flight are answered by the still-running node.
  if (control) {
    control->shutdown();
  }
  (*node)->stop();
  stack_thread.join();
  return 0;
}

}  // namespace
}  // namespace nslab::ustack

int main(int argc, char** argv) {
  nslab::ustack::CommandLine line;
  CLI::App app{"nslab-ustack — the participant node's userspace TCP/IP stack on a TAP device"};
  app.add_option("--tap", line.tap, "TAP device to attach to, or create")->required();
  app.add_option("--addr", line.addresses, "IPv4 address/prefix (repeatable)")->required();
  app.add_option("--route", line.routes, "DEST/LEN,GATEWAY or default,GATEWAY (repeatable)");
  app.add_option("--mac", line.mac, "The stack's MAC address (default: random, local)");
  app.add_option("--mtu", line.mtu, "MTU of the stack and the TAP")->capture_default_str();
  app.add_option("--rx-ring", line.nic.rx_ring, "rx ring entries (power of two)")
      ->capture_default_str();
  app.add_option("--tx-ring", line.nic.tx_ring, "tx ring entries (power of two)")
      ->capture_default_str();
  app.add_option("--rx-coalesce-frames", line.nic.rx_coalesce_frames,
                 "rx interrupt after this many frames")
      ->capture_default_str();
  app.add_option("--rx-coalesce-usecs", line.nic.rx_coalesce_usecs,
                 "...or this many microseconds after the first (0: at once)")
      ->capture_default_str();
  app.add_flag("--csum-offload", line.nic.csum_offload, "rx/tx checksum offload (virtio csum)");
  app.add_flag("--tso", line.nic.tso,
               "TCP segmentation offload both ways (virtio GSO TCPV4); needs --csum-offload");
  app.add_option("--service", line.services,
                 "transport:port:app: udp:PORT:echo|discard, tcp:PORT:echo|discard|chargen|http; "
                 "or a client: tcp:ADDRESS:PORT:source[:BYTES]|sink|hold (repeatable)");
  app.add_option("--fault", line.faults,
                 "PORT:MODE[:N]: the fault a TCP service's port plays: refuse, blackhole-syn, "
                 "never-accept, close-wait, ignore-fin, zero-window, slow-read:BYTES_PER_SECOND, "
                 "reset-after:BYTES (repeatable)");
  app.add_option("--control", line.control, "unix socket for the UstackControl gRPC service");
  CLI11_PARSE(app, argc, argv);
  return nslab::ustack::run(line);
}
