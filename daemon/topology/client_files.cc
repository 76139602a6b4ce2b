#include "daemon/topology/client_files.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "daemon/common/file_text.h"

namespace nslab::topology {

namespace {

// Fills `*text` from `files` under `name` when the client did not inline it.
std::optional<FieldError> Inline(const std::string& name, std::string* text,
                                 const ClientFiles& files, const std::string& path,
                                 const std::string& text_field, std::set<std::string>* used) {
  if (name.empty()) {
    return std::nullopt;
  }
  if (auto it = files.find(name); it != files.end()) {
    used->insert(name);
    if (text->empty()) {
      *text = it->second;
    }
  }
  if (text->empty()) {
    return FieldError{.path = path,
                      .message = ClientFileNotSent(
                          name, absl::StrCat(text_field, " or in CreateLabRequest.files"))};
  }
  return std::nullopt;
}

}  // namespace

std::optional<FieldError> InlineClientFiles(nslab::v1::Topology* topology,
                                            const ClientFiles& files) {
  std::set<std::string> used;
  for (auto& node : *topology->mutable_nodes()) {
    if (auto error =
            Inline(node.nftables_file(), node.mutable_nftables(), files,
                   absl::StrCat("nodes.", node.name(), ".nftables_file"), "nftables", &used)) {
      return error;
    }
  }
  for (int i = 0; i < topology->links_size(); ++i) {
    nslab::v1::Link& link = *topology->mutable_links(i);
    // Only the impairments present: a mutable_*() call would make an absent direction
    // present (and empty), overriding `impair`.
    const std::pair<bool, nslab::v1::Impairment* (nslab::v1::Link::*)()> directions[] = {
        {link.has_impair(), &nslab::v1::Link::mutable_impair},
        {link.has_a_to_b(), &nslab::v1::Link::mutable_a_to_b},
        {link.has_b_to_a(), &nslab::v1::Link::mutable_b_to_a}};
    const char* names[] = {"impair", "a_to_b", "b_to_a"};
    for (int d = 0; d < 3; ++d) {
      if (!directions[d].first) {
        continue;
      }
      nslab::v1::Impairment* impairment = (link.*directions[d].second)();
      if (auto error =
              Inline(impairment->trace_file(), impairment->mutable_trace(), files,
                     absl::StrCat("links[", i, "].", names[d], ".trace_file"), "trace", &used)) {
        return error;
      }
    }
  }
  for (const auto& [name, text] : files) {
    if (!used.contains(name)) {
      return FieldError{.path = absl::StrCat("files[\"", name, "\"]"),
                        .message = "no nftables_file or trace in the topology names this file"};
    }
  }
  return std::nullopt;
}

}  // namespace nslab::topology
