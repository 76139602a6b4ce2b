#pragma once

// The words a topology file spells the proto's enums with. The reader and the writer both
// look them up here, so the two directions cannot drift apart. The *_UNSPECIFIED zeros have
// no word: they are what an absent key means.

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

template <typename Enum>
struct Word {
  absl::string_view text;
  Enum value;
};

inline constexpr Word<nslab::v1::NodeKind> kNodeKindWords[] = {
    {"host", nslab::v1::NODE_KIND_HOST},
    {"router", nslab::v1::NODE_KIND_ROUTER},
    {"switch", nslab::v1::NODE_KIND_SWITCH},
    {"ustack", nslab::v1::NODE_KIND_USTACK}};

inline constexpr Word<nslab::v1::RoutingMode> kRoutingModeWords[] = {
    {"auto", nslab::v1::ROUTING_MODE_AUTO}, {"static", nslab::v1::ROUTING_MODE_STATIC}};

inline constexpr Word<nslab::v1::LinkMode> kLinkModeWords[] = {{"auto", nslab::v1::LINK_MODE_AUTO},
                                                               {"veth", nslab::v1::LINK_MODE_VETH},
                                                               {"wire", nslab::v1::LINK_MODE_WIRE}};

inline constexpr Word<nslab::v1::DelayDistribution> kDistributionWords[] = {
    {"uniform", nslab::v1::DELAY_DISTRIBUTION_UNIFORM},
    {"normal", nslab::v1::DELAY_DISTRIBUTION_NORMAL},
    {"pareto", nslab::v1::DELAY_DISTRIBUTION_PARETO},
    {"paretonormal", nslab::v1::DELAY_DISTRIBUTION_PARETONORMAL}};

inline constexpr Word<nslab::v1::RouteType> kRouteTypeWords[] = {
    {"unicast", nslab::v1::ROUTE_TYPE_UNICAST},
    {"blackhole", nslab::v1::ROUTE_TYPE_BLACKHOLE},
    {"unreachable", nslab::v1::ROUTE_TYPE_UNREACHABLE},
    {"prohibit", nslab::v1::ROUTE_TYPE_PROHIBIT}};

inline constexpr Word<nslab::v1::RestartPolicy> kRestartWords[] = {
    {"never", nslab::v1::RESTART_POLICY_NEVER},
    {"on-failure", nslab::v1::RESTART_POLICY_ON_FAILURE},
    {"always", nslab::v1::RESTART_POLICY_ALWAYS}};

template <typename Enum, size_t N>
std::optional<Enum> FromWord(const Word<Enum> (&words)[N], absl::string_view text) {
  for (const Word<Enum>& word : words) {
    if (word.text == text) {
      return word.value;
    }
  }
  return std::nullopt;
}

// The word for `value`; empty for the zero (and for a value outside the schema, which
// validation refuses).
template <typename Enum, size_t N>
absl::string_view ToWord(const Word<Enum> (&words)[N], Enum value) {
  for (const Word<Enum>& word : words) {
    if (word.value == value) {
      return word.text;
    }
  }
  return "";
}

// "host, router, switch, ustack", for error messages.
template <typename Enum, size_t N>
std::string KnownWords(const Word<Enum> (&words)[N]) {
  return absl::StrJoin(words, ", ", [](std::string* out, const Word<Enum>& word) {
    absl::StrAppend(out, word.text);
  });
}

}  // namespace nslab::topology
