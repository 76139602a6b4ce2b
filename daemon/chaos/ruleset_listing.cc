#include "daemon/chaos/ruleset_listing.h"

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace nslab::chaos {
namespace {

// Statements that are not rules inside a chain block.
bool IsChainHeader(absl::string_view line) {
  return absl::StartsWith(line, "type ") || absl::StartsWith(line, "policy ") ||
         absl::StartsWith(line, "comment ") || absl::StartsWith(line, "devices ");
}

}  // namespace

std::vector<ListedRule> ParseRulesetListing(absl::string_view listing) {
  static const std::regex kCounter(R"(\s*counter packets (\d+) bytes (\d+))");
  static const std::regex kHandle(R"(\s*# handle (\d+)\s*$)");
  std::vector<ListedRule> rules;
  std::string family, table, chain;
  int depth = 0;  // 1 inside a table, 2 inside a chain, more inside sets and maps
  for (absl::string_view raw : absl::StrSplit(listing, '\n')) {
    const std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty()) {
      continue;
    }
    if (line == "}") {
      depth = depth > 0 ? depth - 1 : 0;
      continue;
    }
    if (depth == 0 && absl::StartsWith(line, "table ")) {
      std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (words.size() >= 3) {
        family = words[1];
        table = words[2];
      }
      depth = 1;
      continue;
    }
    if (depth == 1) {
      if (absl::StartsWith(line, "chain ")) {
        std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
        chain = words.size() >= 2 ? words[1] : "";
        depth = 2;
      } else if (absl::EndsWith(line, "{")) {
        depth = 3;  // a set, map, flowtable...: not rules
      }
      continue;
    }
    if (depth == 2 && !IsChainHeader(line)) {
      ListedRule rule;
      rule.family = family;
      rule.table = table;
      rule.chain = chain;
      std::string text = line;
      std::smatch match;
      if (std::regex_search(text, match, kHandle)) {
        (void)absl::SimpleAtoi(match[1].str(), &rule.handle);
        text = match.prefix().str();
      }
      if (std::regex_search(text, match, kCounter)) {
        rule.has_counter = true;
        (void)absl::SimpleAtoi(match[1].str(), &rule.packets);
        (void)absl::SimpleAtoi(match[2].str(), &rule.bytes);
        text = match.prefix().str() + match.suffix().str();
      }
      rule.text = std::string(absl::StripAsciiWhitespace(text));
      rules.push_back(std::move(rule));
      continue;
    }
    if (absl::EndsWith(line, "{")) {
      ++depth;
    }
  }
  return rules;
}

std::vector<std::string> TablesIn(absl::string_view listing) {
  std::vector<std::string> tables;
  for (absl::string_view raw : absl::StrSplit(listing, '\n')) {
    if (absl::StartsWith(raw, "table ")) {
      std::vector<std::string> words = absl::StrSplit(raw, ' ', absl::SkipEmpty());
      if (words.size() >= 3) {
        tables.push_back(words[1] + " " + words[2]);
      }
    }
  }
  return tables;
}

}  // namespace nslab::chaos
