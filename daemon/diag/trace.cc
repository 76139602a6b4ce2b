#include "daemon/diag/trace.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/fd.h"
#include "daemon/diag/capture.h"
#include "daemon/diag/conntrack.h"
#include "daemon/diag/diagnostics.h"
#include "daemon/diag/kernel_tables.h"
#include "daemon/diag/nftrace.h"
#include "daemon/diag/routing.h"
#include "daemon/diag/trace_follow.h"
#include "daemon/diag/trace_nat.h"
#include "daemon/diag/trace_packet.h"
#include "daemon/diag/trace_probe.h"
#include "daemon/diag/trace_walk.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

// Nodes traced with nftables besides the route walk's own: a translation can send the probe
// where the walk before it did not lead, and the probe is gone before that is known.
constexpr size_t kMaxTracedNodes = 32;

using nslab::v1::TraceHop;

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

absl::StatusOr<nslab::v1::TraceResponse> RunTrace(lab::LabRegistry* labs,
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

  NodeNamespaces namespaces(labs, request.lab());
  nslab::v1::TraceResponse report;
  report.set_protocol(probe.protocol);
  report.set_destination(probe.destination);
  report.set_port(probe.protocol == "icmp" ? 0 : probe.port);

  // 1. The route walk for the probe as it leaves, as the kernel of each node decides it.
  std::vector<TraceHop> hops;
  const FlowForm leaving{"", probe.destination, 0, probe.port};
  if (auto walked = Walk(namespaces, map, request.source_node(), "", leaving, kMaxTraceHops, &hops);
      !walked.ok()) {
    return walked;
  }
  const std::string source = hops[0].route().preferred_source();
  report.set_source(source);

  // 2. The probe's socket first (its port goes into the filters), then every trace and
  // capture, then the probe. Filters follow the probe's source port (or echo id), which NAT
  // leaves alone where it can: addresses and the destination port may change on the way.
  auto src_fd = namespaces.Get(request.source_node());
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
  if (probe.protocol == "icmp") {
    matches = {absl::StrCat("icmp type echo-request icmp id ", probe.source_port),
               absl::StrCat("icmp type echo-reply icmp id ", probe.source_port)};
    filter = "icmp";
  } else {
    const std::string& l4 = probe.protocol;
    matches = {absl::StrCat(l4, " sport ", probe.source_port),
               absl::StrCat(l4, " dport ", probe.source_port)};
    filter = absl::StrCat("(", l4, " and port ", probe.source_port, ") or icmp");
  }
  matches.push_back("icmp type { destination-unreachable, time-exceeded }");

  // nftables traces on the walk's nodes, then on the lab's other routed nodes (a
  // translation may lead there), at most kMaxTracedNodes.
  const std::string tag = absl::StrCat(::getpid(), "_", serial);
  std::vector<std::string> traced_order;
  std::set<std::string> traced;
  for (const auto& hop : hops) {
    if (traced.insert(hop.node()).second) {
      traced_order.push_back(hop.node());
    }
  }
  for (const auto& [node, kind] : map.kinds) {
    if (traced_order.size() >= kMaxTracedNodes) {
      break;
    }
    if (kind != nslab::v1::NODE_KIND_SWITCH && traced.insert(node).second) {
      traced_order.push_back(node);
    }
  }
  std::map<std::string, std::unique_ptr<NftraceSession>> sessions;
  std::map<std::string, std::string> untraced;  // node -> why not
  for (const auto& node : traced_order) {
    auto fd = namespaces.Get(node);
    if (!fd.ok()) {
      return fd.status();
    }
    auto session = NftraceSession::Start(*fd, tag, matches);
    if (session.ok()) {
      sessions[node] = std::move(*session);
    } else {
      untraced[node] = std::string(session.status().message());
    }
  }
  // Captures and qdisc counters on the walk's interfaces.
  struct Armed {
    std::string node;
    std::string interface;
    PacketCapture capture;
  };
  std::vector<Armed> captures;
  std::vector<std::string> arm_notes;
  std::map<EndpointRef, uint64_t> qdisc_dropped_before;
  for (const auto& hop : hops) {
    auto fd = namespaces.Get(hop.node());
    if (!fd.ok()) {
      return fd.status();
    }
    for (const std::string& interface : {hop.input_interface(), hop.output_interface()}) {
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
        captures.push_back({hop.node(), interface, std::move(*capture)});
      } else {
        arm_notes.push_back(
            absl::StrCat(hop.node(), ":", interface, ": ", capture.status().message()));
      }
    }
    if (!hop.output_interface().empty()) {
      qdisc_dropped_before[{hop.node(), hop.output_interface()}] =
          QdiscDrops(*fd, hop.output_interface());
    }
  }

  const absl::Time start = absl::Now();
  ProbeResult result = SendProbe(socket->get(), probe, timeout);
  report.set_elapsed_us(static_cast<uint64_t>(absl::ToInt64Microseconds(absl::Now() - start)));
  socket->Reset();
  absl::SleepFor(absl::Milliseconds(100));  // let the last packets reach every capture

  // 3. What each layer saw: trace events first (their tables go), then the translations
  // they and the connection tables show, then captures and counters along the final path.
  std::map<std::string, NodeEvents> events;
  for (auto& [node, session] : sessions) {
    auto fd = namespaces.Get(node);
    if (!fd.ok()) {
      return fd.status();
    }
    NodeEvents& out = events[node];
    out.own_table = session->table();
    out.events = session->Drain();
    if (auto firewall = ReadFirewall(*fd); firewall.ok()) {
      for (const auto& rule : firewall->rules()) {
        out.rule_text[TableKey(rule.family(), rule.table(), rule.handle())] = rule.text();
      }
    }
    session.reset();  // removes the table
  }
  auto followed = FollowTranslations(namespaces, map, probe, events, &hops);
  if (!followed.ok()) {
    return followed.status();
  }
  const std::vector<FlowForm>& forms = *followed;

  std::string answer_seen;  // from the captures at the source
  std::string answer_from;
  for (auto& armed : captures) {
    bool probe_seen = false, answer = false;
    const int link_type = armed.capture.link_type();
    const bool at_source = armed.node == request.source_node();
    while (true) {
      auto got = armed.capture.Poll(
          absl::ZeroDuration(), 0, [&](const pcap_pkthdr& header, const u_char* data) {
            Packet p = ParseFrame(link_type, data, header.caplen);
            const PacketDirection direction = DirectionOf(probe, forms, p);
            if (direction == PacketDirection::kProbe) {
              probe_seen = true;
            } else if (direction == PacketDirection::kAnswer) {
              const std::string kind = AnswerOf(probe, p);
              if (kind.empty()) {
                return;
              }
              answer = true;
              if (at_source && answer_seen.empty()) {
                answer_seen = kind;
                answer_from = p.src;
              }
            }
          });
      if (!got.ok() || *got == 0) {
        break;
      }
    }
    for (auto& hop : hops) {
      if (hop.node() != armed.node ||
          (hop.input_interface() != armed.interface && hop.output_interface() != armed.interface)) {
        continue;
      }
      if (probe_seen) {
        hop.add_seen_probe_on(armed.interface);
      }
      if (answer) {
        hop.add_seen_answer_on(armed.interface);
      }
      break;
    }
  }
  struct Drop {
    size_t hop;
    std::string where;  // "rule 4 in inet filter forward: ..."
    bool reject;
    bool probe_direction;
  };
  std::vector<Drop> drops;
  std::set<std::string> reported;
  for (size_t i = 0; i < hops.size(); ++i) {
    TraceHop& hop = hops[i];
    auto fd = namespaces.Get(hop.node());
    if (!fd.ok()) {
      return fd.status();
    }
    if (auto before = qdisc_dropped_before.find({hop.node(), hop.output_interface()});
        before != qdisc_dropped_before.end()) {
      const uint64_t after = QdiscDrops(*fd, hop.output_interface());
      hop.set_qdisc_dropped(after - std::min(after, before->second));
    }
    if (auto why = untraced.find(hop.node()); why != untraced.end()) {
      hop.set_note(absl::StrCat("no nftables trace here: ", why->second));
    }
    auto node_events = events.find(hop.node());
    if (node_events == events.end() || !reported.insert(hop.node()).second) {
      continue;
    }
    for (const auto& event : node_events->second.events) {
      if (event.table == node_events->second.own_table) {
        continue;
      }
      const PacketDirection direction =
          DirectionOf(probe, forms, ParseHeaders(event.network_header, event.transport_header));
      if (direction == PacketDirection::kUnrelated) {
        continue;  // another flow that happened to share the probe's port
      }
      // The connection's own word where the kernel gives it.
      const bool towards =
          event.ct_direction >= 0 ? event.ct_direction == 0 : direction == PacketDirection::kProbe;
      nslab::v1::TraceFirewallEvent* out = hop.add_firewall();
      out->set_table(absl::StrCat(event.family, " ", event.table));
      out->set_chain(event.chain);
      out->set_handle(event.handle);
      out->set_verdict(VerdictName(event.verdict));
      if (event.type == NFT_TRACETYPE_POLICY) {
        out->set_rule("policy");
      } else if (event.type == NFT_TRACETYPE_RETURN) {
        out->set_rule("return");
      } else {
        const auto& texts = node_events->second.rule_text;
        auto text = texts.find(TableKey(event.family, event.table, event.handle));
        out->set_rule(text != texts.end() ? text->second : "");
      }
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
  auto hop_name = [&](size_t i) { return hops[i].node(); };
  const Drop* first_drop = nullptr;
  for (const auto& drop : drops) {
    if (first_drop == nullptr || (drop.probe_direction && !first_drop->probe_direction)) {
      first_drop = &drop;
    }
  }
  const auto& last = hops.back();
  if (answer == "reply") {
    report.set_verdict("delivered");
    report.set_explanation(absl::StrCat("delivered: ", AnsweredBy(probe, forms), " answered (",
                                        probe.protocol == "tcp"   ? "SYN-ACK, connection accepted"
                                        : probe.protocol == "udp" ? "UDP reply"
                                                                  : "echo reply",
                                        ")", TranslatedNote(probe, hops, forms)));
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
                     first_drop->probe_direction ? TranslatedNote(probe, hops, forms)
                                                 : " (the answer, on its way back)",
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
      const auto& hop = hops[i];
      if (hop.qdisc_dropped() > 0) {
        why =
            absl::StrCat("dropped by the egress qdisc of ", hop.node(), ":", hop.output_interface(),
                         " (", hop.qdisc_dropped(), " drops while the probe was in flight)");
      } else if (!hop.output_link_state().empty() && hop.output_link_state() != "up" &&
                 hop.output_link_state() != "unknown") {
        why = absl::StrCat("link ", hop.node(), ":", hop.output_interface(), " is ",
                           hop.output_link_state(), " (the peer end is down or the link is cut)");
      } else if (!hop.output_interface().empty() && i + 1 < hops.size()) {
        const auto& next = hops[i + 1];
        const bool left = std::find(hop.seen_probe_on().begin(), hop.seen_probe_on().end(),
                                    hop.output_interface()) != hop.seen_probe_on().end();
        const bool arrived = std::find(next.seen_probe_on().begin(), next.seen_probe_on().end(),
                                       next.input_interface()) != next.seen_probe_on().end();
        if (left && !arrived) {
          why = absl::StrCat("lost on the link ", hop.node(), ":", hop.output_interface(), " -> ",
                             next.node(), ":", next.input_interface());
          // The impairments the lab records for this link, as set by the topology or chaos.
          if (auto links = labs->Links(request.lab()); links.ok()) {
            for (const auto& link : *links) {
              if (absl::StrContains(link.name(),
                                    absl::StrCat(hop.node(), ":", hop.output_interface()))) {
                absl::StrAppend(&why, " (impaired: loss ", link.a_to_b().loss(), "% / ",
                                link.b_to_a().loss(), "%, rate ", link.a_to_b().rate_bps(), "/",
                                link.b_to_a().rate_bps(), " bit/s)");
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
  for (auto& hop : hops) {
    *report.add_hops() = std::move(hop);
  }
  if (!arm_notes.empty()) {
    report.mutable_hops(0)->set_note(
        absl::StrCat(report.hops(0).note(), report.hops(0).note().empty() ? "" : "; ",
                     "not captured: ", absl::StrJoin(arm_notes, "; ")));
  }
  return report;
}

}  // namespace nslab::diag
