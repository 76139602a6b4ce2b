#include "daemon/lab/ustack_node.h"

#include <cctype>
#include <set>

#include "absl/strings/str_cat.h"

namespace nslab::lab {

std::vector<std::string> UstackArgv(const std::string& binary, const nslab::v1::Topology& topology,
                                    const nslab::v1::Node& node,
                                    const std::string& control_socket) {
  std::vector<std::string> argv = {binary, "--tap", kUstackTap};
  for (const auto& link : topology.links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      if (end->node() != node.name()) {
        continue;
      }
      for (const auto& address : end->addresses()) {
        argv.insert(argv.end(), {"--addr", address});
      }
      if (!end->mac().empty()) {
        argv.insert(argv.end(), {"--mac", end->mac()});
      }
      if (link.mtu() != 0) {
        argv.insert(argv.end(), {"--mtu", absl::StrCat(link.mtu())});
      }
    }
  }
  for (const auto& route : node.routes()) {
    const std::string to = route.to() == "default" ? "0.0.0.0/0" : route.to();
    argv.insert(argv.end(), {"--route", absl::StrCat(to, ",", route.via())});
  }
  if (node.ring().rx() != 0) {
    argv.insert(argv.end(), {"--rx-ring", absl::StrCat(node.ring().rx())});
  }
  if (node.ring().tx() != 0) {
    argv.insert(argv.end(), {"--tx-ring", absl::StrCat(node.ring().tx())});
  }
  if (node.offloads().csum()) {
    argv.push_back("--csum-offload");
  }
  if (node.offloads().tso()) {
    argv.push_back("--tso");
  }
  for (const auto& service : node.services()) {
    const bool tcp = service.tcp() != 0;
    const uint32_t port = tcp ? service.tcp() : service.udp();
    std::string spec = service.connect().empty()
                           ? absl::StrCat(tcp ? "tcp:" : "udp:", port, ":", service.app())
                           : absl::StrCat("tcp:", service.connect(), ":", port, ":", service.app());
    if (service.bytes() != 0) {
      absl::StrAppend(&spec, ":", service.bytes());
    }
    argv.insert(argv.end(), {"--service", spec});
  }
  // One per port: the stack sets a port's fault on every service there, and validation makes
  // the services sharing a port agree.
  std::set<uint32_t> faulted_ports;
  for (const auto& service : node.services()) {
    if (!service.has_fault() || !faulted_ports.insert(service.tcp()).second) {
      continue;
    }
    const nslab::v1::ServiceFault& fault = service.fault();
    std::string spec = absl::StrCat(service.tcp(), ":", fault.mode());
    if (fault.bytes() != 0) {
      absl::StrAppend(&spec, ":", fault.bytes());
    } else if (fault.rate() != 0) {
      absl::StrAppend(&spec, ":", fault.rate());
    }
    argv.insert(argv.end(), {"--fault", spec});
  }
  argv.insert(argv.end(), {"--control", control_socket});
  return argv;
}

std::optional<std::string> MacFromReadyLine(std::string_view output) {
  const size_t line = output.rfind(kUstackReadyLine);
  if (line == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view rest = output.substr(line, output.find('\n', line) - line);
  constexpr std::string_view kMac = ", mac ";
  const size_t at = rest.find(kMac);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view mac = rest.substr(at + kMac.size(), 17);  // aa:bb:cc:dd:ee:ff
  if (mac.size() != 17) {
    return std::nullopt;
  }
  for (size_t i = 0; i < mac.size(); ++i) {
    const bool colon = i % 3 == 2;
    if (colon ? mac[i] != ':' : !std::isxdigit(static_cast<unsigned char>(mac[i]))) {
      return std::nullopt;
    }
  }
  return std::string(mac);
}

}  // namespace nslab::lab
