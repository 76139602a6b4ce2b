#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace nslab::nft {

struct ListedRule {
  std::string family;
  std::string table;
  std::string chain;
  uint64_t handle = 0;
  // Without "packets N bytes M" and "# handle N"; the word "counter" goes too, unless the
  // rule is only that (then its text is "counter", never empty).
  std::string text;
  bool has_counter = false;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// Reads the rules, with their counters, out of `nft -a list ruleset` text — the
// `iptables -L -v -n` view of a node.
std::vector<ListedRule> ParseRulesetListing(absl::string_view listing);

// Tables in the listing as "family name", e.g. "inet filter".
std::vector<std::string> TablesIn(absl::string_view listing);

}  // namespace nslab::nft
