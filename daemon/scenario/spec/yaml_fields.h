#pragma once

// Internal to the scenario reader: typed reads of YAML values that fail with the key path
// and the line, and remember the line of every path so that validation errors (which know
// only paths) can point into the file too.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "daemon/scenario/spec/words.h"
#include "daemon/topology/field_error.h"
#include "daemon/topology/yaml_field_reader.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace nslab::scenario {

using MaybeError = std::optional<topology::FieldError>;

using topology::IndexPath;
using topology::JoinPath;

// The topology reader's typed reads, plus the scenario's: durations, percents, sizes, and
// maps whose unknown keys get a "did you mean".
class YamlFields : public topology::YamlFieldReader {
 public:
  // `node` is a map whose keys are all in `allowed`; records their lines.
  MaybeError ExpectMap(const YAML::Node& node, const std::string& path,
                       std::initializer_list<absl::string_view> allowed);

  // "1.5s", "200ms", "2m", "0" (a bare number is milliseconds): whole milliseconds.
  MaybeError DurationMs(const YAML::Node& node, const std::string& path, uint32_t* out) const;
  MaybeError DurationUs(const YAML::Node& node, const std::string& path, uint32_t* out) const;
  // Any duration ParseDurationUs takes, in microseconds: what the two above narrow.
  MaybeError AnyDurationUs(const YAML::Node& node, const std::string& path, uint64_t* out) const;
  // "20%" or "20".
  MaybeError Percent(const YAML::Node& node, const std::string& path, double* out) const;
  // "1500", "32kb": bytes.
  MaybeError Size(const YAML::Node& node, const std::string& path, uint64_t* out) const;

  template <typename Enum, size_t N>
  MaybeError Choice(const YAML::Node& node, const std::string& path, const Word<Enum> (&words)[N],
                    Enum* out) const {
    std::string text;
    NSLAB_TRY_FIELD(String(node, path, &text));
    const std::optional<Enum> value = FromWord(words, text);
    if (!value) {
      return Fail(node, path, absl::StrCat("\"", text, "\" is not one of ", KnownWords(words)));
    }
    *out = *value;
    return std::nullopt;
  }
};

// The closest of `candidates` to a misspelt `key` (at most two edits away), or empty.
absl::string_view Suggest(absl::string_view key, absl::Span<const absl::string_view> candidates);

}  // namespace nslab::scenario
