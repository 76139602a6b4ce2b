#include "tests/integration/support/host_snapshot.h"

#include <net/if.h>

#include <filesystem>

namespace nslab::testing {

HostSnapshot HostSnapshot::Take(const std::string& prefix) {
  HostSnapshot snapshot;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) {
      snapshot.namespaces.insert(name);
    }
  }
  if (struct if_nameindex* names = if_nameindex(); names != nullptr) {
    for (struct if_nameindex* i = names; i->if_index != 0; ++i) {
      snapshot.host_links.insert(i->if_name);
    }
    if_freenameindex(names);
  }
  return snapshot;
}

std::string HostSnapshot::DiffFrom(const HostSnapshot& before) const {
  std::string diff;
  auto compare = [&diff](const std::set<std::string>& was, const std::set<std::string>& now,
                         const char* what) {
    for (const auto& name : now) {
      if (was.count(name) == 0) {
        diff += std::string("new ") + what + " " + name + "; ";
      }
    }
    for (const auto& name : was) {
      if (now.count(name) == 0) {
        diff += std::string("missing ") + what + " " + name + "; ";
      }
    }
  };
  compare(before.namespaces, namespaces, "namespace");
  compare(before.host_links, host_links, "host link");
  return diff;
}

}  // namespace nslab::testing
