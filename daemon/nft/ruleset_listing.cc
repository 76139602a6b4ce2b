#include "daemon/nft/ruleset_listing.h"

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace nslab::nft {
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
  // Open blocks: 't'able, 'c'hain, or 'o'ther (sets, maps, flowtables: no rules inside).
  std::vector<char> blocks;
  for (absl::string_view raw : absl::StrSplit(listing, '\n')) {
    std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty()) {
      continue;
    }
    // With -a, block openers carry their handle too: "chain input { # handle 1".
    if (const size_t brace = line.rfind("{ # handle "); brace != std::string::npos) {
      line.resize(brace + 1);
    }
    if (line == "}") {
      if (!blocks.empty()) {
        blocks.pop_back();
      }
      continue;
    }
    if (absl::EndsWith(line, "{")) {
      std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (blocks.empty() && words.size() >= 3 && words[0] == "table") {
        family = words[1];
        table = words[2];
        blocks.push_back('t');
      } else if (blocks.size() == 1 && words.size() >= 2 && words[0] == "chain") {
        chain = words[1];
        blocks.push_back('c');
      } else {
        blocks.push_back('o');
      }
      continue;
    }
    if (blocks.empty() || blocks.back() != 'c' || IsChainHeader(line)) {
      continue;
    }
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
    if (rule.text.empty() && rule.has_counter) {
      // A rule that only counts: its statement is all there is to show (its numbers have
      // their own fields).
      rule.text = "counter";
    }
    rules.push_back(std::move(rule));
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

}  // namespace nslab::nft
