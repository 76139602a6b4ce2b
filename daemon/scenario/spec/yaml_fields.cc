#include "daemon/scenario/spec/yaml_fields.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"
#include "daemon/common/units.h"

namespace nslab::scenario {
namespace {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

absl::string_view Suggest(absl::string_view key, absl::Span<const absl::string_view> candidates) {
  if (key.size() > 64) {
    return "";  // no keyword is that long; spare the quadratic work
  }
  absl::string_view best;
  size_t best_distance = 3;
  for (absl::string_view candidate : candidates) {
    const size_t distance = EditDistance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

MaybeError YamlFields::ExpectMap(const YAML::Node& node, const std::string& path,
                                 std::initializer_list<absl::string_view> allowed) {
  if (!node.IsMap()) {
    return Fail(node, path, "expected a map of keys");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      return Fail(it->first, path, "keys must be plain words");
    }
    const std::string key = it->first.Scalar();
    const std::string key_path = JoinPath(path, key);
    Record(key_path, it->first);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      if (allowed.size() == 0) {
        return Fail(it->first, key_path,
                    absl::StrCat("unknown key \"", key, "\" (this takes no keys: write {})"));
      }
      const absl::string_view suggestion = Suggest(key, allowed);
      return Fail(
          it->first, key_path,
          absl::StrCat("unknown key \"", key, "\"",
                       suggestion.empty() ? "" : absl::StrCat(" (did you mean ", suggestion, "?)"),
                       "; known: ", absl::StrJoin(allowed, ", ")));
    }
  }
  return std::nullopt;
}

MaybeError YamlFields::AnyDurationUs(const YAML::Node& node, const std::string& path,
                                     uint64_t* out) const {
  if (!node.IsScalar()) {
    return Fail(node, path, "expected a duration (e.g. 1.5s, 200ms, 2m)");
  }
  auto us = ParseDurationUs(node.Scalar());
  if (!us.ok()) {
    return Fail(node, path, std::string(us.status().message()));
  }
  *out = *us;
  return std::nullopt;
}

MaybeError YamlFields::DurationUs(const YAML::Node& node, const std::string& path,
                                  uint32_t* out) const {
  uint64_t us = 0;
  NSLAB_TRY_FIELD(AnyDurationUs(node, path, &us));
  if (us > UINT32_MAX) {
    return Fail(node, path, absl::StrCat("\"", node.Scalar(), "\" is too long (at most 4294s)"));
  }
  *out = static_cast<uint32_t>(us);
  return std::nullopt;
}

MaybeError YamlFields::DurationMs(const YAML::Node& node, const std::string& path,
                                  uint32_t* out) const {
  uint64_t us = 0;
  NSLAB_TRY_FIELD(AnyDurationUs(node, path, &us));
  if (us % 1000 != 0) {
    return Fail(node, path,
                absl::StrCat("\"", node.Scalar(), "\" is not a whole number of milliseconds"));
  }
  if (us / 1000 > UINT32_MAX) {
    return Fail(node, path, absl::StrCat("\"", node.Scalar(), "\" is longer than 24h"));
  }
  *out = static_cast<uint32_t>(us / 1000);
  return std::nullopt;
}

MaybeError YamlFields::Percent(const YAML::Node& node, const std::string& path, double* out) const {
  if (!node.IsScalar()) {
    return Fail(node, path, "expected a percent (e.g. 20%)");
  }
  auto percent = ParsePercent(node.Scalar());
  if (!percent.ok()) {
    return Fail(node, path, std::string(percent.status().message()));
  }
  *out = *percent;
  return std::nullopt;
}

MaybeError YamlFields::Size(const YAML::Node& node, const std::string& path, uint64_t* out) const {
  if (!node.IsScalar()) {
    return Fail(node, path, "expected a size in bytes (e.g. 1500, 32kb)");
  }
  auto bytes = ParseSizeBytes(node.Scalar());
  if (!bytes.ok()) {
    return Fail(node, path, std::string(bytes.status().message()));
  }
  *out = *bytes;
  return std::nullopt;
}

}  // namespace nslab::scenario
