#include "daemon/lab/teardown.h"

#include <sys/resource.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

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

absl::Status DeleteLabNamespaces(const nslab::v1::Lab& lab, const std::vector<std::string>& own,
                                 events::ProgressReporter& progress) {
  const auto& topology = lab.topology();
  std::unordered_map<std::string, std::vector<int>> links_of;  // node -> its links
  for (int i = 0; i < topology.links_size(); ++i) {
    links_of[topology.links(i).a().node()].push_back(i);
    links_of[topology.links(i).b().node()].push_back(i);
  }
  std::vector<bool> link_gone(topology.links_size(), false);
  auto gone = [&](const std::string& node) {
    progress.NodeDone();
    for (int link : links_of[node]) {
      if (!link_gone[link]) {
        link_gone[link] = true;
        progress.LinkDone();
      }
    }
  };
  const std::unordered_set<std::string> owned(own.begin(), own.end());
  for (const auto& node : lab.nodes()) {
    if (owned.count(node.netns()) == 0) {
      gone(node.name());
    }
  }
  // Held until every bind mount is gone: the kernel frees a namespace once nothing refers to
  // it, and its cleanup (which scans every other namespace) would otherwise run beside the
  // unmounts still to come, each of which waits for an RCU grace period that the cleanup's long
  // locked sections hold up. At most half the open-files limit, so that the daemon's other
  // work (connections, other labs) keeps fds; namespaces past that go without one.
  rlimit files{};
  const size_t budget = ::getrlimit(RLIMIT_NOFILE, &files) == 0 ? files.rlim_cur / 2 : 0;
  std::vector<UniqueFd> held;
  held.reserve(std::min(own.size(), budget));
  for (const auto& netns : own) {
    if (held.size() >= budget) {
      break;
    }
    auto fd = netns::Open(netns);
    if (fd.ok()) {
      held.push_back(std::move(*fd));
    } else if (!absl::IsNotFound(fd.status())) {
      break;  // out of fds after all
    }
  }
  absl::Status first_error;
  for (const auto& node : lab.nodes()) {
    if (owned.count(node.netns()) == 0) {
      continue;
    }
    if (netns::Exists(node.netns())) {
      if (auto status = netns::Delete(node.netns()); !status.ok()) {
        if (first_error.ok()) {
          first_error = status;
        }
        continue;
      }
    }
    gone(node.name());
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
