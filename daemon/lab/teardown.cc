#include "daemon/lab/teardown.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/parallel.h"

namespace nslab::lab {

absl::Status DeleteNamespaces(const std::vector<std::string>& namespaces) {
  absl::Status first_error;
  for (const auto& name : namespaces) {
    if (!netns::Exists(name)) {
      continue;
    }
    if (auto status = netns::Delete(name); !status.ok() && first_error.ok()) {
      first_error = status;
    }
  }
  return first_error;
}

nslab::v1::NamespaceIdentity ToProto(const netns::Identity& identity) {
  nslab::v1::NamespaceIdentity out;
  out.set_device(identity.device);
  out.set_inode(identity.inode);
  out.set_cookie(identity.cookie);
  return out;
}

NamespaceOwnership OwnNamespaces(const nslab::v1::Lab& lab) {
  enum class Verdict { kGone, kOwn, kForeign, kUnrecordedForeign };
  std::vector<Verdict> verdicts(lab.nodes_size(), Verdict::kGone);
  // Reading a cookie takes a thread entering the namespace; a big lab has hundreds.
  (void)ParallelFor(verdicts.size(), 4, [&](size_t i) {
    const auto& node = lab.nodes(static_cast<int>(i));
    const auto& recorded = node.netns_identity();
    if (node.netns().empty() || !netns::Exists(node.netns())) {
      verdicts[i] = Verdict::kGone;
    } else if (recorded.inode() == 0) {
      verdicts[i] = absl::StartsWith(node.netns(), absl::StrCat(lab.name(), "-"))
                        ? Verdict::kOwn
                        : Verdict::kUnrecordedForeign;
    } else {
      auto current = netns::IdentityOf(node.netns());
      const bool same =
          current.ok() &&
          netns::SameNamespace(
              {.device = recorded.device(), .inode = recorded.inode(), .cookie = recorded.cookie()},
              *current);
      verdicts[i] = same ? Verdict::kOwn : Verdict::kForeign;
    }
    return absl::OkStatus();
  });
  NamespaceOwnership result;
  for (size_t i = 0; i < verdicts.size(); ++i) {
    const std::string& name = lab.nodes(static_cast<int>(i)).netns();
    switch (verdicts[i]) {
      case Verdict::kGone:
        break;
      case Verdict::kOwn:
        result.own.push_back(name);
        break;
      case Verdict::kForeign:
        result.foreign.push_back(absl::StrCat("namespace ", name, " is not the one lab ",
                                              lab.name(), " made; left alone"));
        break;
      case Verdict::kUnrecordedForeign:
        result.foreign.push_back(absl::StrCat("namespace ", name, " is not named after lab ",
                                              lab.name(),
                                              " and its identity was never recorded; left alone"));
        break;
    }
  }
  return result;
}

}  // namespace nslab::lab
