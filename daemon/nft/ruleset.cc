#include "daemon/nft/ruleset.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/nft/nft_context.h"
#include "daemon/nft/ruleset_listing.h"

namespace nslab::nft {

absl::StatusOr<std::string> ListRuleset(int netns_fd) {
  nft::NftOptions options;
  options.with_handles = true;
  return nft::RunCommands(netns_fd, "list ruleset", options);
}

absl::StatusOr<std::string> ListUserRuleset(int netns_fd) {
  auto listing = ListRuleset(netns_fd);
  if (!listing.ok()) {
    return listing.status();
  }
  std::string ruleset;
  for (const std::string& table : TablesIn(*listing)) {
    const std::string name = table.substr(table.find(' ') + 1);
    if (absl::StartsWith(name, kOwnTablePrefix)) {
      continue;
    }
    auto text = nft::RunCommands(netns_fd, absl::StrCat("list table ", table), {});
    if (!text.ok()) {
      return text.status();
    }
    absl::StrAppend(&ruleset, *text);
  }
  return ruleset;
}

absl::Status ReplaceUserRuleset(int netns_fd, absl::string_view ruleset) {
  // Checked alone first, so libnftables' line and column point into the user's text.
  nft::NftOptions check;
  check.dry_run = true;
  if (auto checked = nft::RunCommands(netns_fd, ruleset, check); !checked.ok()) {
    return checked.status();
  }
  auto listing = ListRuleset(netns_fd);
  if (!listing.ok()) {
    return listing.status();
  }
  std::string batch;
  for (const std::string& table : TablesIn(*listing)) {
    const std::string name = table.substr(table.find(' ') + 1);
    if (!absl::StartsWith(name, kOwnTablePrefix)) {
      absl::StrAppend(&batch, "delete table ", table, "\n");
    }
  }
  absl::StrAppend(&batch, ruleset, "\n");
  return nft::RunCommands(netns_fd, batch).status();
}

}  // namespace nslab::nft
