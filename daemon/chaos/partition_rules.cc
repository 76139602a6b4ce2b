#include "daemon/chaos/partition_rules.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nslab::chaos {
namespace {

// Rules matching traffic from `addresses` of one family (`ip` or `ip6`).
std::string FamilyRules(const char* family, const std::vector<std::string>& addresses,
                        bool reject) {
  if (addresses.empty()) {
    return "";
  }
  const std::string match =
      absl::StrCat("    ", family, " saddr { ", absl::StrJoin(addresses, ", "), " } ");
  if (!reject) {
    return match + "drop\n";
  }
  // Both sides carry these rules, so the RSTs and ICMP errors that the other side's
  // rules send back must get through, or reject would look like drop.
  const char* unreachable = std::string(family) == "ip" ? "icmp type destination-unreachable"
                                                        : "icmpv6 type destination-unreachable";
  return absl::StrCat(match, "tcp flags & rst == rst accept\n", match, unreachable, " accept\n",
                      match, "meta l4proto tcp reject with tcp reset\n", match, "reject\n");
}

}  // namespace

std::string RenderPartitionRules(const std::vector<std::string>& others, bool reject) {
  std::vector<std::string> v4, v6;
  for (const auto& address : others) {
    (address.find(':') != std::string::npos ? v6 : v4).push_back(address);
  }
  const std::string rules = FamilyRules("ip", v4, reject) + FamilyRules("ip6", v6, reject);
  // Declaring the table first and deleting it makes the batch valid whether or not a
  // previous partition is still in place: the result is always exactly this one.
  std::string out = RenderHeal();
  absl::StrAppend(&out, "table inet ", kPartitionTable, " {\n");
  for (const char* hook : {"input", "forward"}) {
    absl::StrAppend(&out, "  chain ", hook, " {\n    type filter hook ", hook,
                    " priority -300; policy accept;\n", rules, "  }\n");
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

std::string RenderHeal() {
  return absl::StrCat("table inet ", kPartitionTable, " {}\ndelete table inet ", kPartitionTable,
                      "\n");
}

}  // namespace nslab::chaos
