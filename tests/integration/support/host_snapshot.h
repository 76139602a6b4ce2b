#pragma once

#include <set>
#include <string>

namespace nslab::testing {

// What a test must leave exactly as it found: the named namespaces and the links of the
// host namespace.
struct HostSnapshot {
  std::set<std::string> namespaces;
  std::set<std::string> host_links;

  static HostSnapshot Take();
  // Human-readable differences, empty when equal.
  std::string DiffFrom(const HostSnapshot& before) const;
};

}  // namespace nslab::testing
