#include "daemon/impair/kernel/flow_rules.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel/ingress_loss.h"

namespace nslab::impair::kernel {
namespace {

using nslab::v1::FlowMatch;

// As ingress_loss.cc: numgen draws in [0, 10^6), netem's percentage resolution.
constexpr int64_t kModulus = 1'000'000;
// Ahead of user chains on the same hooks, as the link's own loss table.
constexpr int kHookPriority = -500;

enum class Family { kAny, kIpv4, kIpv6 };

Family FamilyOfAddress(const std::string& cidr) {
  if (cidr.empty()) {
    return Family::kAny;
  }
  return absl::StrContains(cidr, ':') ? Family::kIpv6 : Family::kIpv4;
}

std::string PortsText(const nslab::v1::PortRange& range) {
  if (range.last() == 0 || range.last() == range.first()) {
    return absl::StrCat(range.first());
  }
  return absl::StrCat(range.first(), "-", range.last());
}

// The conditions of one family (or of either, kAny, only without ports: with ports each family
// says "not a fragment" its own way).
std::string ConditionsFor(const FlowMatch& match, Family family) {
  std::vector<std::string> words;
  const bool ports = match.has_source_port() || match.has_destination_port();
  if (family == Family::kIpv4) {
    // The family first: every later payload match depends on it, and nft would otherwise add
    // it itself. A port condition never holds for a fragment, the first one included (MF set
    // or an offset: 0x3fff of frag-off).
    words.push_back("meta protocol ip");
    if (ports) {
      words.push_back("ip frag-off & 0x3fff == 0");
    }
  } else if (family == Family::kIpv6) {
    words.push_back("meta protocol ip6");
    if (ports) {
      words.push_back("exthdr frag missing");
    }
  }
  const char* ip = family == Family::kIpv6 ? "ip6" : "ip";
  if (!match.source().empty()) {
    words.push_back(absl::StrCat(ip, " saddr ", match.source()));
  }
  if (!match.destination().empty()) {
    words.push_back(absl::StrCat(ip, " daddr ", match.destination()));
  }
  if (!match.protocol().empty()) {
    // nft's name for ICMPv6 as a layer-4 protocol.
    words.push_back(absl::StrCat("meta l4proto ",
                                 match.protocol() == "icmpv6" ? "ipv6-icmp" : match.protocol()));
  }
  if (match.has_source_port()) {
    words.push_back(absl::StrCat(match.protocol(), " sport ", PortsText(match.source_port())));
  }
  if (match.has_destination_port()) {
    words.push_back(absl::StrCat(match.protocol(), " dport ", PortsText(match.destination_port())));
  }
  std::string text;
  for (const std::string& word : words) {
    absl::StrAppend(&text, text.empty() ? "" : " ", word);
  }
  return text;
}

// "4e53:2", as nft reads a priority.
std::string PriorityText(uint32_t priority) {
  return absl::StrFormat("%x:%x", priority >> 16, priority & 0xffff);
}

absl::StatusOr<int64_t> Threshold(absl::string_view what, double loss_percent) {
  if (!(loss_percent > 0 && loss_percent <= 100)) {  // also NaN
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": loss must be in (0..100] (percent) for the nftables drop, got ", loss_percent));
  }
  const int64_t threshold = std::llround(loss_percent / 100.0 * kModulus);
  if (threshold == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": loss ", loss_percent, "% is below the nftables drop's resolution of 0.0001%"));
  }
  return threshold;
}

// Deleting a table that does not exist is an error in nft 1.0.6 (no `destroy` yet): adding it
// first makes the delete valid within the one transaction.
std::string DropTableCommands(const std::string& table) {
  return absl::StrCat("add table netdev ", table, "\ndelete table netdev ", table, "\n");
}

// The base chain's rules: each alternative of each flow jumps to that flow's chain.
absl::StatusOr<std::string> JumpRules(const std::vector<KernelFlowRule>& flows) {
  std::string rules;
  for (int i = 0; i < static_cast<int>(flows.size()); ++i) {
    absl::StatusOr<std::vector<std::string>> conditions = FlowMatchConditions(flows[i].match);
    if (!conditions.ok()) {
      return absl::Status(conditions.status().code(),
                          absl::StrCat("flows[", i, "]: ", conditions.status().message()));
    }
    for (const std::string& condition : *conditions) {
      absl::StrAppend(&rules, "\t\t", condition, condition.empty() ? "" : " ", "jump ",
                      FlowChainName(i), "\n");
    }
  }
  return rules;
}

}  // namespace

std::string FlowClassifierTableName(absl::string_view ifname) {
  return absl::StrCat("nslab_flows_", ifname);
}

std::string FlowChainName(int index) { return absl::StrCat("flow_", index); }

absl::StatusOr<std::vector<std::string>> FlowMatchConditions(const FlowMatch& match) {
  if (absl::Status status = ValidateFlowMatch(match); !status.ok()) {
    return status;
  }
  const FlowMatch canonical = CanonicalFlowMatch(match);
  Family family = FamilyOfAddress(canonical.source());
  if (family == Family::kAny) {
    family = FamilyOfAddress(canonical.destination());
  }
  if (canonical.protocol() == "icmp") {
    family = Family::kIpv4;
  } else if (canonical.protocol() == "icmpv6") {
    family = Family::kIpv6;
  }
  const bool ports = canonical.has_source_port() || canonical.has_destination_port();
  if (family == Family::kAny && ports) {
    return std::vector<std::string>{ConditionsFor(canonical, Family::kIpv4),
                                    ConditionsFor(canonical, Family::kIpv6)};
  }
  return std::vector<std::string>{ConditionsFor(canonical, family)};
}

absl::StatusOr<std::string> RenderFlowClassifierRuleset(absl::string_view ifname,
                                                        const std::vector<KernelFlowRule>& flows,
                                                        uint32_t default_priority) {
  if (absl::Status status = CheckNftIfname(ifname); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::string> jumps = JumpRules(flows);
  if (!jumps.ok()) {
    return jumps.status();
  }
  const std::string table = FlowClassifierTableName(ifname);
  std::string text = absl::StrCat(DropTableCommands(table), "table netdev ", table, " {\n");
  for (int i = 0; i < static_cast<int>(flows.size()); ++i) {
    // accept ends this base chain: the first matching flow decides.
    absl::StrAppend(&text, "\tchain ", FlowChainName(i), " {\n\t\tcounter meta priority set ",
                    PriorityText(flows[i].priority), " accept\n\t}\n");
  }
  absl::StrAppend(&text, "\tchain egress_flows {\n\t\ttype filter hook egress device \"", ifname,
                  "\" priority ", kHookPriority, "; policy accept;\n", *jumps,
                  "\t\tmeta priority set ", PriorityText(default_priority), "\n\t}\n}\n");
  return text;
}

absl::StatusOr<std::string> RenderFlowClassifierRemoval(absl::string_view ifname) {
  if (absl::Status status = CheckNftIfname(ifname); !status.ok()) {
    return status;
  }
  return DropTableCommands(FlowClassifierTableName(ifname));
}

absl::StatusOr<std::string> RenderIngressFlowLossRuleset(absl::string_view ifname,
                                                         const std::vector<KernelFlowRule>& flows,
                                                         double link_loss_percent) {
  if (absl::Status status = CheckNftIfname(ifname); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::string> jumps = JumpRules(flows);
  if (!jumps.ok()) {
    return jumps.status();
  }
  const std::string table = IngressLossTableName(ifname);
  std::string text = absl::StrCat(DropTableCommands(table), "table netdev ", table, " {\n");
  for (int i = 0; i < static_cast<int>(flows.size()); ++i) {
    absl::StrAppend(&text, "\tchain ", FlowChainName(i), " {\n\t\tcounter\n");
    if (flows[i].loss_percent != 0) {
      absl::StatusOr<int64_t> threshold =
          Threshold(absl::StrCat("flows[", i, "]"), flows[i].loss_percent);
      if (!threshold.ok()) {
        return threshold.status();
      }
      absl::StrAppend(&text, "\t\tnumgen random mod ", kModulus, " < ", *threshold,
                      " counter drop comment \"nslab: loss ", flows[i].loss_percent, "%\"\n");
    }
    absl::StrAppend(&text, "\t\taccept\n\t}\n");
  }
  absl::StrAppend(&text, "\tchain ingress_loss {\n\t\ttype filter hook ingress device \"", ifname,
                  "\" priority ", kHookPriority, "; policy accept;\n", *jumps);
  if (link_loss_percent != 0) {
    absl::StatusOr<int64_t> threshold = Threshold("the link's own impairment", link_loss_percent);
    if (!threshold.ok()) {
      return threshold.status();
    }
    absl::StrAppend(&text, "\t\tnumgen random mod ", kModulus, " < ", *threshold,
                    " counter drop comment \"nslab: loss ", link_loss_percent, "%\"\n");
  }
  absl::StrAppend(&text, "\t}\n}\n");
  return text;
}

}  // namespace nslab::impair::kernel
