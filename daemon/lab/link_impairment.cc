#include "daemon/lab/link_impairment.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/common/status_macros.h"
#include "daemon/impair/flow_class.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel/flow_rules.h"
#include "daemon/impair/kernel/ingress_loss.h"
#include "daemon/impair/kernel/kernel_impairment.h"
#include "daemon/impair/rng.h"
#include "daemon/lab/lab_wires.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/nft/ruleset_listing.h"
#include "daemon/topology/names.h"

namespace nslab::lab {

std::array<LinkDirection, 2> DirectionsOf(const std::string& lab, const nslab::v1::Link& link,
                                          uint64_t lab_seed) {
  const std::string a_ns = topology::NamespaceOf(lab, link.a().node());
  const std::string b_ns = topology::NamespaceOf(lab, link.b().node());
  const uint32_t mtu = link.mtu() == 0 ? 1500 : link.mtu();
  const std::string label = LinkLabel(link);
  return {LinkDirection{a_ns, link.a().interface(), b_ns, link.b().interface(), mtu,
                        impair::SeedFor(lab_seed, label, impair::Direction::kAToB)},
          LinkDirection{b_ns, link.b().interface(), a_ns, link.a().interface(), mtu,
                        impair::SeedFor(lab_seed, label, impair::Direction::kBToA)}};
}

std::array<nslab::v1::Impairment, 2> RequestedImpairments(const nslab::v1::Link& link) {
  return {link.has_a_to_b() ? link.a_to_b() : link.impair(),
          link.has_b_to_a() ? link.b_to_a() : link.impair()};
}

std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> RequestedFlows(
    const nslab::v1::Link& link) {
  std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> flows;
  for (const nslab::v1::FlowImpairment& flow : link.flows()) {
    const std::array<const nslab::v1::Impairment*, 2> wanted = {
        flow.has_a_to_b() ? &flow.a_to_b() : (flow.has_impair() ? &flow.impair() : nullptr),
        flow.has_b_to_a() ? &flow.b_to_a() : (flow.has_impair() ? &flow.impair() : nullptr)};
    for (int direction = 0; direction < 2; ++direction) {
      if (wanted[direction] == nullptr) {
        continue;
      }
      nslab::v1::FlowImpairmentState state;
      *state.mutable_match() = flow.match();
      state.set_match_text(impair::FlowMatchText(flow.match()));
      *state.mutable_impairment() = *wanted[direction];
      flows[direction].push_back(std::move(state));
    }
  }
  return flows;
}

std::vector<impair::kernel::KernelFlow> KernelFlowsOf(
    const google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>& flows) {
  std::vector<impair::kernel::KernelFlow> out;
  for (const auto& flow : flows) {
    out.push_back({flow.match(), flow.impairment(), ""});
  }
  return out;
}

std::vector<impair::kernel::KernelFlow> KernelFlowsOf(
    const std::vector<nslab::v1::FlowImpairmentState>& flows) {
  std::vector<impair::kernel::KernelFlow> out;
  for (const auto& flow : flows) {
    out.push_back({flow.match(), flow.impairment(), ""});
  }
  return out;
}

namespace {

// Whether the namespace has nslab's netdev table `table`. Listing one family's tables is a
// dump that a kernel without that family answers empty, so a kernel with netem and without
// the netdev family is never asked for more.
absl::StatusOr<bool> HasNetdevTable(int netns_fd, const std::string& table) {
  NSLAB_ASSIGN_OR_RETURN(std::string tables, nft::RunCommands(netns_fd, "list tables netdev\n"));
  return absl::StrContains(absl::StrCat("\n", tables),
                           absl::StrCat("\ntable netdev ", table, "\n"));
}

absl::Status RemoveNetdevTable(int netns_fd, const std::string& table,
                               const absl::StatusOr<std::string>& removal) {
  NSLAB_RETURN_IF_ERROR(removal.status());
  NSLAB_ASSIGN_OR_RETURN(bool present, HasNetdevTable(netns_fd, table));
  if (!present) {
    return absl::OkStatus();
  }
  return nft::RunCommands(netns_fd, *removal).status();
}

absl::Status RemoveClassifier(int send_fd, const std::string& ifname) {
  return RemoveNetdevTable(send_fd, impair::kernel::FlowClassifierTableName(ifname),
                           impair::kernel::RenderFlowClassifierRemoval(ifname));
}

absl::Status RemoveIngressLoss(int receive_fd, const std::string& ifname) {
  return RemoveNetdevTable(receive_fd, impair::kernel::IngressLossTableName(ifname),
                           impair::kernel::RenderIngressLossRemoval(ifname));
}

}  // namespace

absl::Status ApplyLinkDirection(const LinkDirection& direction,
                                const nslab::v1::Impairment& impairment,
                                const impair::kernel::KernelFeatures& features) {
  return ApplyLinkDirection(direction, impairment, {}, features);
}

absl::Status ApplyLinkDirection(const LinkDirection& direction,
                                const nslab::v1::Impairment& impairment,
                                const std::vector<impair::kernel::KernelFlow>& flows,
                                const impair::kernel::KernelFeatures& features) {
  namespace kernel = impair::kernel;
  const bool clear = impairment.ByteSizeLong() == 0;
  // Planned whole before anything is touched: a refusal changes nothing.
  NSLAB_ASSIGN_OR_RETURN(kernel::KernelFlowsPlan plan,
                         kernel::PlanKernelFlows(impairment, flows, features, direction.mtu));
  NSLAB_ASSIGN_OR_RETURN(auto send_fd, netns::Open(direction.send_netns));
  NSLAB_ASSIGN_OR_RETURN(auto send_sock, netlink::RouteSocket::OpenIn(send_fd.get()));
  std::vector<kernel::KernelFlowRule> rules;
  for (size_t i = 0; i < flows.size(); ++i) {
    rules.push_back({flows[i].match, 0, plan.flows[i].ingress_loss_percent});
  }
  if (flows.empty()) {
    if (clear) {
      NSLAB_RETURN_IF_ERROR(kernel::ClearKernelImpairment(send_sock, direction.send_interface));
    } else {
      NSLAB_RETURN_IF_ERROR(kernel::ApplyKernelImpairment(
          send_sock, direction.send_interface, impairment, features, direction.fate_seed));
    }
  } else if (plan.egress_tree) {
    // Each flow's netem draws from its own stream, seeded as the wire seeds the flow's.
    std::vector<uint64_t> seeds;
    for (const auto& flow : flows) {
      seeds.push_back(impair::ClassSeed(direction.fate_seed, impair::FlowMatchKey(flow.match)));
    }
    NSLAB_ASSIGN_OR_RETURN(kernel::FlowTreeClasses classes,
                           kernel::ApplyKernelFlowTree(send_sock, direction.send_interface, plan,
                                                       features, direction.fate_seed, seeds));
    for (size_t i = 0; i < rules.size(); ++i) {
      rules[i].priority = classes.flow_priorities[i];
    }
    NSLAB_ASSIGN_OR_RETURN(auto classifier,
                           kernel::RenderFlowClassifierRuleset(direction.send_interface, rules,
                                                               classes.default_priority));
    NSLAB_RETURN_IF_ERROR(nft::RunCommands(send_fd.get(), classifier).status());
  } else {
    NSLAB_RETURN_IF_ERROR(kernel::ClearKernelImpairment(send_sock, direction.send_interface));
  }
  if (flows.empty() || !plan.egress_tree) {
    // Only a kernel with the egress hook can hold a classifier; one without has none to remove.
    if (features.nft_egress) {
      NSLAB_RETURN_IF_ERROR(RemoveClassifier(send_fd.get(), direction.send_interface));
    }
  }
  // The receiving side's loss table is set when this plan needs it and removed when an earlier
  // plan left one; otherwise nftables is not touched at all: a kernel with netem needs none,
  // and may have no netdev family to ask.
  NSLAB_ASSIGN_OR_RETURN(auto receive_fd, netns::Open(direction.receive_netns));
  if (plan.ingress_loss) {
    NSLAB_ASSIGN_OR_RETURN(
        auto ruleset, flows.empty()
                          ? kernel::RenderIngressLossRuleset(direction.receive_interface,
                                                             plan.link.ingress_loss_percent)
                          : kernel::RenderIngressFlowLossRuleset(direction.receive_interface, rules,
                                                                 plan.link.ingress_loss_percent));
    return nft::RunCommands(receive_fd.get(), ruleset).status();
  }
  return RemoveIngressLoss(receive_fd.get(), direction.receive_interface);
}

namespace {

// Counters of the rules in each "flow_<i>" chain of one of nslab's netdev tables.
struct ChainCounters {
  bool found = false;
  uint64_t matched_packets = 0;  // the chain's first counter: every frame that jumped there
  uint64_t matched_bytes = 0;
  uint64_t dropped = 0;   // the numgen drop's counter
  uint32_t priority = 0;  // the classifier's "meta priority set M:N"
};

std::vector<ChainCounters> ReadChains(int netns_fd, const std::string& table, size_t flows) {
  std::vector<ChainCounters> chains(flows);
  absl::StatusOr<bool> present = HasNetdevTable(netns_fd, table);
  if (!present.ok() || !*present) {
    return chains;
  }
  absl::StatusOr<std::string> listing =
      nft::RunCommands(netns_fd, absl::StrCat("list table netdev ", table, "\n"));
  if (!listing.ok()) {
    return chains;
  }
  for (const nft::ListedRule& rule : nft::ParseRulesetListing(*listing)) {
    int index = 0;
    absl::string_view chain_name = rule.chain;
    if (!absl::ConsumePrefix(&chain_name, "flow_") || !absl::SimpleAtoi(chain_name, &index) ||
        index < 0 || index >= static_cast<int>(flows) || !rule.has_counter) {
      continue;
    }
    ChainCounters& chain = chains[index];
    if (absl::StrContains(rule.text, "numgen")) {
      chain.dropped = rule.packets;
      continue;
    }
    if (!chain.found) {
      chain.found = true;
      chain.matched_packets = rule.packets;
      chain.matched_bytes = rule.bytes;
    }
    if (auto at = rule.text.find("priority set "); at != std::string::npos) {
      const std::string value = rule.text.substr(at + 13, rule.text.find(' ', at + 13) - at - 13);
      const size_t colon = value.find(':');
      uint32_t major = 0;
      uint32_t minor = 0;
      if (colon != std::string::npos &&
          absl::SimpleHexAtoi(absl::string_view(value).substr(0, colon), &major) &&
          absl::SimpleHexAtoi(absl::string_view(value).substr(colon + 1), &minor)) {
        chain.priority = (major << 16) | minor;
      }
    }
  }
  return chains;
}

}  // namespace

void ReadKernelFlowCounters(
    const LinkDirection& direction,
    google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>* flows) {
  namespace kernel = impair::kernel;
  const size_t count = flows->size();
  if (count == 0) {
    return;
  }
  std::vector<ChainCounters> sent(count);
  std::vector<kernel::LeafStats> leaves(count);
  if (auto send_fd = netns::Open(direction.send_netns); send_fd.ok()) {
    sent = ReadChains(send_fd->get(), kernel::FlowClassifierTableName(direction.send_interface),
                      count);
    std::vector<uint32_t> classids;
    for (const ChainCounters& chain : sent) {
      classids.push_back(chain.priority);
    }
    if (auto sock = netlink::RouteSocket::OpenIn(send_fd->get()); sock.ok()) {
      if (auto read = kernel::ReadFlowTreeLeaves(*sock, direction.send_interface, classids);
          read.ok()) {
        leaves = *std::move(read);
      }
    }
  }
  std::vector<ChainCounters> received(count);
  if (auto receive_fd = netns::Open(direction.receive_netns); receive_fd.ok()) {
    received = ReadChains(receive_fd->get(),
                          kernel::IngressLossTableName(direction.receive_interface), count);
  }
  for (size_t i = 0; i < count; ++i) {
    nslab::v1::WireCounters& counters = *flows->Mutable(static_cast<int>(i))->mutable_counters();
    counters.Clear();
    // Classified at the sender where there is a classifier, else matched at the receiver.
    const ChainCounters& matched = sent[i].found ? sent[i] : received[i];
    counters.set_offered(matched.matched_packets);
    counters.set_bytes(matched.matched_bytes);
    counters.set_dropped_loss(received[i].dropped);
    uint64_t forwarded = matched.matched_packets;
    if (leaves[i].found) {
      if (leaves[i].kind == "netem") {
        counters.set_dropped_loss(counters.dropped_loss() + leaves[i].drops);
      } else {
        counters.set_dropped_queue_full(leaves[i].drops);
      }
      counters.set_queue_depth(leaves[i].queued);
      forwarded = leaves[i].packets;
    }
    counters.set_forwarded(forwarded > received[i].dropped ? forwarded - received[i].dropped : 0);
  }
}

}  // namespace nslab::lab
