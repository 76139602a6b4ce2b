#include "daemon/diag/trace.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/diag/capture.h"
#include "daemon/diag/diagnostics.h"
#include "daemon/diag/kernel_tables.h"
#include "daemon/diag/nftrace.h"
#include "daemon/diag/routing.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

constexpr int kMaxHops = 16;

struct EndpointRef {
  std::string node;
  std::string interface;
  bool operator<(const EndpointRef& other) const {
    return std::tie(node, interface) < std::tie(other.node, other.interface);
  }
};

std::string StripPrefix(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

bool IsIpv4(const std::string& text) {
  in_addr addr{};
  return ::inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

// What the topology says about addresses and wiring.
struct LabMap {
  std::map<std::string, EndpointRef> owners;  // address -> endpoint
  std::map<EndpointRef, EndpointRef> peers;   // endpoint -> the other end of its link
  std::map<std::string, nslab::v1::NodeKind> kinds;
  std::map<std::string, std::vector<std::string>> node_addresses;
};

LabMap MapOf(const nslab::v1::Topology& topology) {
  LabMap map;
  for (const auto& node : topology.nodes()) {
    map.kinds[node.name()] = node.kind();
  }
  for (const auto& link : topology.links()) {
    const EndpointRef a{link.a().node(), link.a().interface()};
    const EndpointRef b{link.b().node(), link.b().interface()};
    map.peers[a] = b;
    map.peers[b] = a;
    for (const auto* end : {&link.a(), &link.b()}) {
      for (const auto& cidr : end->addresses()) {
        map.owners[StripPrefix(cidr)] = {end->node(), end->interface()};
        map.node_addresses[end->node()].push_back(StripPrefix(cidr));
      }
    }
  }
  return map;
}

// One parsed IPv4 packet of a capture.
struct Packet {
  bool ok = false;
  std::string src, dst;
  int protocol = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0;
  uint8_t icmp_type = 0, icmp_code = 0;
  uint16_t echo_id = 0;
};

std::string Ip(const void* raw) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, raw, text, sizeof(text));
  return text;
}

Packet ParseIpv4(const u_char* data, size_t len) {
  Packet packet;
  if (len < 20 || (data[0] >> 4) != 4) {
    return packet;
  }
  const size_t ihl = (data[0] & 0x0f) * 4u;
  if (ihl < 20 || len < ihl) {
    return packet;
  }
  packet.ok = true;
  packet.protocol = data[9];
  packet.src = Ip(data + 12);
  packet.dst = Ip(data + 16);
  const u_char* l4 = data + ihl;
  const size_t l4_len = len - ihl;
  if ((packet.protocol == IPPROTO_TCP || packet.protocol == IPPROTO_UDP) && l4_len >= 4) {
    packet.sport = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
    packet.dport = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
    if (packet.protocol == IPPROTO_TCP && l4_len >= 14) {
      packet.tcp_flags = l4[13];
    }
  } else if (packet.protocol == IPPROTO_ICMP && l4_len >= 8) {
    packet.icmp_type = l4[0];
    packet.icmp_code = l4[1];
    packet.echo_id = static_cast<uint16_t>(l4[4] << 8 | l4[5]);
  }
  return packet;
}

Packet ParseFrame(int link_type, const u_char* data, size_t len) {
  size_t offset = 0;
  uint16_t ethertype = 0;
  if (link_type == DLT_EN10MB) {
    if (len < 14) {
      return {};
    }
    ethertype = static_cast<uint16_t>(data[12] << 8 | data[13]);
    offset = 14;
    if (ethertype == 0x8100 && len >= 18) {
      ethertype = static_cast<uint16_t>(data[16] << 8 | data[17]);
      offset = 18;
    }
  } else if (link_type == DLT_LINUX_SLL) {
    if (len < 16) {
      return {};
    }
    ethertype = static_cast<uint16_t>(data[14] << 8 | data[15]);
    offset = 16;
  } else {
    ethertype = 0x0800;  // raw IP
  }
  if (ethertype != 0x0800) {
    return {};
  }
  return ParseIpv4(data + offset, len - offset);
}

std::string IcmpName(uint8_t type, uint8_t code) {
  if (type == ICMP_DEST_UNREACH) {
    switch (code) {
      case ICMP_NET_UNREACH:
        return "icmp net-unreachable";
      case ICMP_HOST_UNREACH:
        return "icmp host-unreachable";
      case ICMP_PROT_UNREACH:
        return "icmp prot-unreachable";
      case ICMP_PORT_UNREACH:
        return "icmp port-unreachable";
      case ICMP_NET_ANO:
        return "icmp net-prohibited";
      case ICMP_HOST_ANO:
        return "icmp host-prohibited";
      case ICMP_PKT_FILTERED:
        return "icmp admin-prohibited";
      case ICMP_FRAG_NEEDED:
        return "icmp frag-needed";
      default:
        return absl::StrCat("icmp unreachable code ", code);
    }
  }
  if (type == ICMP_TIME_EXCEEDED) {
    return "icmp time-exceeded";
  }
  if (type == ICMP_ECHOREPLY) {
    return "reply";
  }
  return absl::StrCat("icmp type ", type);
}

struct Probe {
  std::string protocol;
  std::string destination;
  uint16_t port = 0;
  uint16_t source_port = 0;  // or the ICMP echo id
};

bool IsProbe(const Probe& probe, const Packet& p) {
  if (!p.ok || p.dst != probe.destination) {
    return false;
  }
  if (probe.protocol == "icmp") {
    return p.protocol == IPPROTO_ICMP && p.icmp_type == ICMP_ECHO;
  }
  const int proto = probe.protocol == "tcp" ? IPPROTO_TCP : IPPROTO_UDP;
  return p.protocol == proto && p.dport == probe.port;
}

// What came back, from an answer packet: "reply", "rst", "icmp ...".
std::string AnswerOf(const Probe& probe, const Packet& p) {
  if (p.protocol == IPPROTO_ICMP) {
    if (p.icmp_type == ICMP_ECHOREPLY && probe.protocol != "icmp") {
      return "";
    }
    return IcmpName(p.icmp_type, p.icmp_code);
  }
  if (p.protocol == IPPROTO_TCP) {
    return (p.tcp_flags & TH_RST) != 0 ? "rst" : "reply";
  }
  return "reply";
}

std::string TableKey(const std::string& family, const std::string& table, uint64_t handle) {
  return absl::StrCat(family, " ", table, " ", handle);
}

struct ProbeResult {
  std::string answer = "none";  // from the socket: reply / rst / icmp ... / none
  std::string connect_result;
  int error = 0;
};

absl::StatusOr<UniqueFd> ProbeSocket(int netns_fd, const Probe& probe) {
  UniqueFd fd;
  auto status = netns::RunIn(netns_fd, [&] {
    if (probe.protocol == "icmp") {
      fd = UniqueFd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP));
    } else {
      fd = UniqueFd(::socket(
          AF_INET,
          (probe.protocol == "tcp" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    }
    if (!fd.valid()) {
      return ErrnoStatus("probe socket", errno);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return fd;
}

uint16_t IcmpChecksum(const unsigned char* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  }
  if (len % 2 != 0) {
    sum += static_cast<uint32_t>(data[len - 1] << 8);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

ProbeResult SendProbe(int fd, const Probe& probe, absl::Duration timeout) {
  ProbeResult result;
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(probe.port);
  ::inet_pton(AF_INET, probe.destination.c_str(), &dst.sin_addr);
  const int timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  auto error_answer = [](int err) -> std::string {
    switch (err) {
      case ECONNREFUSED:
        return "refused";
      case EHOSTUNREACH:
        return "icmp host-unreachable";
      case ENETUNREACH:
        return "icmp net-unreachable";
      case EACCES:
      case EPERM:
        return "blocked locally";
      default:
        return "none";  // refused by the source's own stack: nothing went on the wire
    }
  };
  if (probe.protocol == "tcp") {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 &&
        errno != EINPROGRESS) {
      result.error = errno;
    } else {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) {
        result.connect_result = "timed out";
        return result;
      }
      socklen_t len = sizeof(result.error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result.error, &len);
    }
    if (result.error == 0) {
      result.answer = "reply";
      result.connect_result = "connected";
    } else if (result.error == ECONNREFUSED) {
      result.answer = "rst";  // or an ICMP port-unreachable: the captures tell
      result.connect_result = "refused";
    } else if (result.error == ETIMEDOUT) {
      result.connect_result = "timed out";
    } else {
      result.answer = error_answer(result.error);
      result.connect_result =
          result.error == EPERM || result.error == EACCES ? "blocked locally"
          : result.answer == "none"
              ? absl::StrCat("failed at the source (", strerror(result.error), ")")
              : absl::StrCat("unreachable (", strerror(result.error), ")");
    }
    linger hard{1, 0};  // close with RST: nothing lingers in TIME_WAIT in the node
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    return result;
  }
  if (probe.protocol == "udp") {
    const char payload[] = "nslab trace probe";
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 ||
        ::send(fd, payload, sizeof(payload) - 1, 0) < 0) {
      result.error = errno;
      result.answer = error_answer(result.error);
      result.connect_result = result.answer == "none" ? absl::StrCat("failed at the source (",
                                                                     strerror(result.error), ")")
                                                      : result.answer;
      return result;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      result.connect_result = "no answer";
      return result;
    }
    char buffer[512];
    if (::recv(fd, buffer, sizeof(buffer), 0) >= 0) {
      result.answer = "reply";
      result.connect_result = "answered";
    } else {
      result.error = errno;
      result.answer =
          result.error == ECONNREFUSED ? "icmp port-unreachable" : error_answer(result.error);
      result.connect_result = result.error == ECONNREFUSED ? "refused" : result.answer;
    }
    return result;
  }
  // ICMP echo, id = probe.source_port.
  unsigned char packet[64] = {};
  packet[0] = ICMP_ECHO;
  packet[4] = static_cast<unsigned char>(probe.source_port >> 8);
  packet[5] = static_cast<unsigned char>(probe.source_port & 0xff);
  packet[7] = 1;
  std::memcpy(packet + 8, "nslab trace probe", 17);
  const uint16_t sum = IcmpChecksum(packet, sizeof(packet));
  packet[2] = static_cast<unsigned char>(sum >> 8);
  packet[3] = static_cast<unsigned char>(sum & 0xff);
  if (::sendto(fd, packet, sizeof(packet), 0, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) < 0) {
    result.error = errno;
    result.answer = error_answer(result.error);
    result.connect_result = result.answer;
    return result;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (::poll(&p, 1, std::max(left, 1)) <= 0) {
      continue;
    }
    unsigned char buffer[1500];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      continue;
    }
    Packet answer = ParseIpv4(buffer, static_cast<size_t>(n));
    if (!answer.ok || answer.protocol != IPPROTO_ICMP) {
      continue;
    }
    if (answer.icmp_type == ICMP_ECHOREPLY && answer.echo_id == probe.source_port) {
      result.answer = "reply";
      result.connect_result = "answered";
      return result;
    }
    if (answer.icmp_type == ICMP_DEST_UNREACH || answer.icmp_type == ICMP_TIME_EXCEEDED) {
      // The error quotes our echo request: outer IP, ICMP header (8), inner IP, inner ICMP.
      const size_t outer = (buffer[0] & 0x0f) * 4u;
      if (static_cast<size_t>(n) >= outer + 8 + 20 + 8) {
        Packet inner = ParseIpv4(buffer + outer + 8, static_cast<size_t>(n) - outer - 8);
        if (inner.ok && inner.echo_id == probe.source_port) {
          result.answer = IcmpName(answer.icmp_type, answer.icmp_code);
          result.connect_result = "unreachable";
          return result;
        }
      }
    }
  }
  result.connect_result = "no answer";
  return result;
}

struct HopState {
  nslab::v1::TraceHop hop;
  std::unique_ptr<NftraceSession> nftrace;
  uint64_t qdisc_dropped_before = 0;
};

uint64_t QdiscDrops(int netns_fd, const std::string& interface) {
  uint64_t dropped = 0;
  if (auto qdiscs = ListQdiscs(netns_fd, interface); qdiscs.ok()) {
    for (const auto& qdisc : qdiscs->qdiscs()) {
      dropped += qdisc.dropped();
    }
  }
  return dropped;
}

std::atomic<uint32_t> trace_counter{0};

}  // namespace

absl::StatusOr<nslab::v1::TraceResponse> RunTrace(lab::LabRegistry* labs, chaos::ChaosEngine* chaos,
                                                  const nslab::v1::TraceRequest& request) {
  auto topology = labs->TopologyOf(request.lab());
  if (!topology.ok()) {
    return topology.status();
  }
  const LabMap map = MapOf(*topology);
  if (map.kinds.count(request.source_node()) == 0) {
    return absl::NotFoundError(
        absl::StrCat("node ", request.source_node(), " is not in lab ", request.lab()));
  }
  Probe probe;
  probe.protocol = request.protocol().empty() ? "tcp" : request.protocol();
  if (probe.protocol != "tcp" && probe.protocol != "udp" && probe.protocol != "icmp") {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol \"", probe.protocol, "\": use tcp, udp or icmp"));
  }
  probe.destination = request.destination();
  if (!IsIpv4(probe.destination)) {
    auto it = map.node_addresses.find(probe.destination);
    if (it == map.node_addresses.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("destination \"", request.destination(),
                       "\" is neither an IPv4 address nor a node with one in lab ", request.lab(),
                       " (trace follows IPv4 only)"));
    }
    probe.destination.clear();
    for (const auto& address : it->second) {
      if (IsIpv4(address)) {
        probe.destination = address;
        break;
      }
    }
    if (probe.destination.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "node ", request.destination(), " has no IPv4 address; trace follows IPv4 only"));
    }
  }
  probe.port = static_cast<uint16_t>(request.port() != 0 ? request.port()
                                                         : (probe.protocol == "udp" ? 53 : 80));
  const absl::Duration timeout =
      absl::Milliseconds(request.timeout_ms() != 0 ? request.timeout_ms() : 2000);

  std::map<std::string, UniqueFd> namespaces;
  auto ns = [&](const std::string& node) -> absl::StatusOr<int> {
    if (auto it = namespaces.find(node); it != namespaces.end()) {
      return it->second.get();
    }
    auto name = labs->NodeNamespace(request.lab(), node);
    if (!name.ok()) {
      return name.status();
    }
    auto fd = netns::Open(*name);
    if (!fd.ok()) {
      return fd.status();
    }
    const int raw = fd->get();
    namespaces[node] = std::move(*fd);
    return raw;
  };

  nslab::v1::TraceResponse report;
  report.set_protocol(probe.protocol);
  report.set_destination(probe.destination);
  report.set_port(probe.protocol == "icmp" ? 0 : probe.port);

  // 1. The route walk, as the kernel of each node would decide it.
  std::vector<HopState> hops;
  std::string node = request.source_node();
  std::string input;
  std::string source;
  std::set<EndpointRef> visited;
  for (int i = 0; i < kMaxHops; ++i) {
    auto fd = ns(node);
    if (!fd.ok()) {
      return fd.status();
    }
    HopState state;
    state.hop.set_node(node);
    state.hop.set_input_interface(input);
    RouteQuery query{probe.destination, input.empty() ? "" : source, 0, input};
    auto decision = GetRoute(*fd, query);
    if (!decision.ok()) {
      return decision.status();
    }
    if (i == 0) {
      source = decision->preferred_source();
    }
    *state.hop.mutable_route() = *decision;
    if (!decision->error().empty() || decision->type() != "unicast") {
      hops.push_back(std::move(state));
      break;  // local delivery, or the packet dies here
    }
    state.hop.set_output_interface(decision->output_interface());
    if (auto links = ListLinkStats(*fd); links.ok()) {
      for (const auto& link : links->links()) {
        if (link.name() == decision->output_interface()) {
          state.hop.set_output_link_state(link.oper_state());
        }
      }
    }
    const std::string next_hop =
        decision->gateway().empty() ? probe.destination : decision->gateway();
    const EndpointRef out{node, decision->output_interface()};
    if (auto peer = map.peers.find(out);
        peer != map.peers.end() && map.kinds.at(peer->second.node) == nslab::v1::NODE_KIND_SWITCH) {
      state.hop.add_via_switches(peer->second.node);
    }
    auto owner = map.owners.find(next_hop);
    if (owner == map.owners.end()) {
      state.hop.set_note(absl::StrCat("next hop ", next_hop, " is not an address of the lab"));
      hops.push_back(std::move(state));
      break;
    }
    hops.push_back(std::move(state));
    if (visited.count(owner->second) != 0) {
      hops.back().hop.set_note(
          absl::StrCat("routing loop: back to ", owner->second.node, ":", owner->second.interface));
      break;
    }
    visited.insert(owner->second);
    node = owner->second.node;
    input = owner->second.interface;
  }
  report.set_source(source);

  // 2. The probe's socket first (its port goes into the filters), then every trace and
  // capture along the path, then the probe.
  auto src_fd = ns(request.source_node());
  if (!src_fd.ok()) {
    return src_fd.status();
  }
  auto socket = ProbeSocket(*src_fd, probe);
  if (!socket.ok()) {
    return socket.status();
  }
  const uint32_t serial = trace_counter.fetch_add(1);
  if (probe.protocol == "icmp") {
    probe.source_port = static_cast<uint16_t>((::getpid() * 31 + serial) & 0xffff);
  } else {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (!source.empty()) {
      ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    }
    if (::bind(socket->get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      local.sin_addr.s_addr = INADDR_ANY;
      if (::bind(socket->get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
        return ErrnoStatus("bind the probe socket", errno);
      }
    }
    socklen_t len = sizeof(local);
    ::getsockname(socket->get(), reinterpret_cast<sockaddr*>(&local), &len);
    probe.source_port = ntohs(local.sin_port);
  }

  std::vector<std::string> matches;
  std::string filter;
  const std::string& d = probe.destination;
  if (probe.protocol == "icmp") {
    matches = {absl::StrCat("ip daddr ", d, " icmp type echo-request"),
               absl::StrCat("ip saddr ", d, " icmp type echo-reply")};
    filter = "icmp";
  } else {
    const std::string& l4 = probe.protocol;
    matches = {absl::StrCat("ip daddr ", d, " ", l4, " sport ", probe.source_port, " ", l4,
                            " dport ", probe.port),
               absl::StrCat("ip saddr ", d, " ", l4, " sport ", probe.port, " ", l4, " dport ",
                            probe.source_port)};
    filter = absl::StrCat("(", l4, " and port ", probe.port, " and port ", probe.source_port,
                          ") or icmp");
  }
  matches.push_back("icmp type { destination-unreachable, time-exceeded }");

  const std::string tag = absl::StrCat(::getpid(), "_", serial);
  struct Armed {
    size_t hop;
    std::string interface;
    PacketCapture capture;
  };
  std::vector<Armed> captures;
  std::vector<std::string> arm_notes;
  std::set<std::string> traced_nodes;
  for (size_t i = 0; i < hops.size(); ++i) {
    auto& state = hops[i];
    auto fd = ns(state.hop.node());
    if (!fd.ok()) {
      return fd.status();
    }
    if (traced_nodes.insert(state.hop.node()).second) {
      auto session = NftraceSession::Start(*fd, tag, matches);
      if (session.ok()) {
        state.nftrace = std::move(*session);
      } else {
        state.hop.set_note(absl::StrCat("no nftables trace here: ", session.status().message()));
      }
    }
    for (const std::string& interface :
         {state.hop.input_interface(), state.hop.output_interface()}) {
      if (interface.empty()) {
        continue;
      }
      CaptureOptions options;
      options.interface = interface;
      options.filter = filter;
      options.snaplen = 256;
      options.buffer_bytes = 1 << 20;
      auto capture = PacketCapture::Open(*fd, options);
      if (capture.ok()) {
        captures.push_back({i, interface, std::move(*capture)});
      } else {
        arm_notes.push_back(
            absl::StrCat(state.hop.node(), ":", interface, ": ", capture.status().message()));
      }
    }
    if (!state.hop.output_interface().empty()) {
      state.qdisc_dropped_before = QdiscDrops(*fd, state.hop.output_interface());
    }
  }

  const absl::Time start = absl::Now();
  ProbeResult result = SendProbe(socket->get(), probe, timeout);
  report.set_elapsed_us(static_cast<uint64_t>(absl::ToInt64Microseconds(absl::Now() - start)));
  socket->Reset();
  absl::SleepFor(absl::Milliseconds(100));  // let the last packets reach every capture

  // 3. What each layer saw.
  std::string answer_seen;  // from the captures at the source
  std::string answer_from;
  for (auto& armed : captures) {
    auto& hop = hops[armed.hop].hop;
    bool probe_seen = false, answer = false;
    const int link_type = armed.capture.link_type();
    while (true) {
      auto got = armed.capture.Poll(absl::ZeroDuration(), 0,
                                    [&](const pcap_pkthdr& header, const u_char* data) {
                                      Packet p = ParseFrame(link_type, data, header.caplen);
                                      if (!p.ok) {
                                        return;
                                      }
                                      if (IsProbe(probe, p)) {
                                        probe_seen = true;
                                        return;
                                      }
                                      const std::string kind = AnswerOf(probe, p);
                                      if (kind.empty()) {
                                        return;
                                      }
                                      answer = true;
                                      if (armed.hop == 0 && answer_seen.empty()) {
                                        answer_seen = kind;
                                        answer_from = p.src;
                                      }
                                    });
      if (!got.ok() || *got == 0) {
        break;
      }
    }
    if (probe_seen) {
      hop.add_seen_probe_on(armed.interface);
    }
    if (answer) {
      hop.add_seen_answer_on(armed.interface);
    }
  }
  struct Drop {
    size_t hop;
    std::string where;  // "rule 4 in inet filter forward: ..."
    bool reject;
    bool probe_direction;
  };
  std::vector<Drop> drops;
  for (size_t i = 0; i < hops.size(); ++i) {
    auto& state = hops[i];
    auto fd = ns(state.hop.node());
    if (!fd.ok()) {
      return fd.status();
    }
    if (!state.hop.output_interface().empty()) {
      const uint64_t after = QdiscDrops(*fd, state.hop.output_interface());
      state.hop.set_qdisc_dropped(after - std::min(after, state.qdisc_dropped_before));
    }
    if (!state.nftrace) {
      continue;
    }
    std::vector<TraceEvent> events = state.nftrace->Drain();
    std::map<std::string, std::string> rule_text;
    if (auto firewall = ReadFirewall(*fd); firewall.ok()) {
      for (const auto& rule : firewall->rules()) {
        rule_text[TableKey(rule.family(), rule.table(), rule.handle())] = rule.text();
      }
    }
    const std::string own_table = state.nftrace->table();
    state.nftrace.reset();  // removes the table
    for (const auto& event : events) {
      if (event.table == own_table) {
        continue;
      }
      nslab::v1::TraceFirewallEvent* out = state.hop.add_firewall();
      out->set_table(absl::StrCat(event.family, " ", event.table));
      out->set_chain(event.chain);
      out->set_handle(event.handle);
      out->set_verdict(VerdictName(event.verdict));
      if (event.type == NFT_TRACETYPE_POLICY) {
        out->set_rule("policy");
      } else if (event.type == NFT_TRACETYPE_RETURN) {
        out->set_rule("return");
      } else {
        auto text = rule_text.find(TableKey(event.family, event.table, event.handle));
        out->set_rule(text != rule_text.end() ? text->second : "");
      }
      Packet header = ParseIpv4(reinterpret_cast<const u_char*>(event.network_header.data()),
                                event.network_header.size());
      const bool towards = header.ok && header.dst == probe.destination;
      out->set_direction(towards ? "probe" : "answer");
      if (event.verdict == NF_DROP) {
        const std::string what =
            out->rule() == "policy"
                ? absl::StrCat("the policy drop of chain ", out->table(), " ", out->chain())
                : absl::StrCat("rule ", out->handle(), " in ", out->table(), " ", out->chain(),
                               ": ", out->rule());
        drops.push_back({i, what, absl::StrContains(out->rule(), "reject"), towards});
      }
    }
  }

  // 4. The verdict.
  std::string answer = result.answer;
  if (answer == "rst" && !answer_seen.empty() && answer_seen != "reply") {
    answer = answer_seen;  // an ICMP error made connect() say "refused"
  }
  if (answer == "blocked locally") {
    answer = "none";
  }
  report.set_answer(answer);
  report.set_connect_result(result.connect_result);
  auto hop_name = [&](size_t i) { return hops[i].hop.node(); };
  const Drop* first_drop = nullptr;
  for (const auto& drop : drops) {
    if (first_drop == nullptr || (drop.probe_direction && !first_drop->probe_direction)) {
      first_drop = &drop;
    }
  }
  const auto& last = hops.back().hop;
  if (answer == "reply") {
    report.set_verdict("delivered");
    report.set_explanation(absl::StrCat("delivered: ", probe.destination, " answered (",
                                        probe.protocol == "tcp"   ? "SYN-ACK, connection accepted"
                                        : probe.protocol == "udp" ? "UDP reply"
                                                                  : "echo reply",
                                        ")"));
  } else if (first_drop != nullptr && first_drop->reject) {
    report.set_verdict("dropped");
    report.set_explanation(absl::StrCat(
        "rejected at ", hop_name(first_drop->hop), " by ", first_drop->where, " (the sender sees ",
        answer == "none" ? "an error" : answer, ": \"connection refused\", fast)"));
  } else if (answer == "rst") {
    report.set_verdict("delivered");
    report.set_explanation(absl::StrCat(
        "connection refused: ", answer_from.empty() ? probe.destination : answer_from,
        " answered RST (the host is reachable; nothing listens on port ", probe.port, ")"));
  } else if (answer != "none" && absl::StartsWith(answer, "icmp port-unreachable")) {
    report.set_verdict("delivered");
    report.set_explanation(absl::StrCat("refused: ", probe.destination,
                                        " answered ICMP port-unreachable (nothing listens on ",
                                        probe.protocol, " port ", probe.port, ")"));
  } else if (first_drop != nullptr) {
    report.set_verdict("dropped");
    report.set_explanation(
        absl::StrCat("dropped at ", hop_name(first_drop->hop), " by ", first_drop->where,
                     first_drop->probe_direction ? "" : " (the answer, on its way back)",
                     answer == "none" ? " — the sender sees silence: \"timed out\"" : ""));
  } else if (!last.route().error().empty() ||
             (last.route().type() != "unicast" && last.route().type() != "local")) {
    report.set_verdict("dropped");
    const std::string matched = last.route().matched_route().empty()
                                    ? ""
                                    : absl::StrCat(" (", last.route().matched_route(), ")");
    report.set_explanation(absl::StrCat(
        "no route at ", last.node(), ": ", last.route().type(),
        last.route().error().empty() ? "" : absl::StrCat(", ", last.route().error()), matched,
        answer == "none" ? " — silently: \"timed out\""
                         : absl::StrCat(" — the sender gets ", answer)));
  } else {
    // Silence without a rule or a route to blame: walk the captures.
    std::string why;
    for (size_t i = 0; i < hops.size() && why.empty(); ++i) {
      const auto& hop = hops[i].hop;
      if (hop.qdisc_dropped() > 0) {
        why =
            absl::StrCat("dropped by the egress qdisc of ", hop.node(), ":", hop.output_interface(),
                         " (", hop.qdisc_dropped(), " drops while the probe was in flight)");
      } else if (!hop.output_link_state().empty() && hop.output_link_state() != "up" &&
                 hop.output_link_state() != "unknown") {
        why = absl::StrCat("link ", hop.node(), ":", hop.output_interface(), " is ",
                           hop.output_link_state(), " (the peer end is down or the link is cut)");
      } else if (!hop.output_interface().empty() && i + 1 < hops.size()) {
        const auto& next = hops[i + 1].hop;
        const bool left = std::find(hop.seen_probe_on().begin(), hop.seen_probe_on().end(),
                                    hop.output_interface()) != hop.seen_probe_on().end();
        const bool arrived = std::find(next.seen_probe_on().begin(), next.seen_probe_on().end(),
                                       next.input_interface()) != next.seen_probe_on().end();
        if (left && !arrived) {
          why = absl::StrCat("lost on the link ", hop.node(), ":", hop.output_interface(), " -> ",
                             next.node(), ":", next.input_interface());
          if (chaos != nullptr) {
            if (auto impairments = chaos->ListImpairments(request.lab()); impairments.ok()) {
              for (const auto& view : *impairments) {
                if (absl::StrContains(view.link,
                                      absl::StrCat(hop.node(), ":", hop.output_interface()))) {
                  absl::StrAppend(&why, " (impaired: loss ", view.directions[0].loss(), "% / ",
                                  view.directions[1].loss(), "%, rate ",
                                  view.directions[0].rate_bps(), "/", view.directions[1].rate_bps(),
                                  " bit/s)");
                }
              }
            }
          }
        } else if (!left && i > 0 &&
                   std::find(hop.seen_probe_on().begin(), hop.seen_probe_on().end(),
                             hop.input_interface()) != hop.seen_probe_on().end()) {
          why = absl::StrCat("dropped inside ", hop.node(), ": seen arriving on ",
                             hop.input_interface(), ", never leaving on ", hop.output_interface());
        }
      }
    }
    if (why.empty() && last.route().type() == "local") {
      why = absl::StrCat("reached ", last.node(), " but no answer came back",
                         probe.protocol == "udp" ? " (UDP: the service may simply not reply)" : "");
    }
    if (why.empty()) {
      why = "no answer, and no layer recorded a drop";
    }
    report.set_verdict(last.route().type() == "local" && probe.protocol == "udp" &&
                               std::find(last.seen_probe_on().begin(), last.seen_probe_on().end(),
                                         last.input_interface()) != last.seen_probe_on().end()
                           ? "delivered"
                           : "dropped");
    report.set_explanation(absl::StrCat(why, " — the sender sees silence: \"timed out\""));
  }
  if (result.connect_result == "blocked locally") {
    report.set_verdict("dropped");
    if (first_drop == nullptr) {
      report.set_explanation(
          "the source's own output path refused the probe (EPERM): a local firewall drop");
    }
  }
  for (auto& state : hops) {
    *report.add_hops() = std::move(state.hop);
  }
  if (!arm_notes.empty()) {
    report.mutable_hops(0)->set_note(
        absl::StrCat(report.hops(0).note(), report.hops(0).note().empty() ? "" : "; ",
                     "not captured: ", absl::StrJoin(arm_notes, "; ")));
  }
  return report;
}

}  // namespace nslab::diag
