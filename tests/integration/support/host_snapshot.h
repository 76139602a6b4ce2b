#pragma once

#include <set>
#include <string>

namespace nslab::testing {

// What a test must leave exactly as it found: the named namespaces and the links of the
// host namespace.
struct HostSnapshot {
  std::set<std::string> namespaces;
  std::set<std::string> host_links;

  // Only namespaces whose name starts with `prefix` count (a test's own lab name), so
  // tests running in parallel do not see each other's labs.
  static HostSnapshot Take(const std::string& prefix);
  // Human-readable differences, empty when equal.
  std::string DiffFrom(const HostSnapshot& before) const;
};

}  // namespace nslab::testing
