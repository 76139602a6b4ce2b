#pragma once

// Internal to the topology reader (yaml_reader.cc, yaml_reader_sections.cc): the class that
// walks a topology's YAML. Not for other modules: they call yaml_reader.h.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/topology/field_error.h"
#include "daemon/topology/yaml_field_reader.h"
#include "daemon/topology/yaml_reader.h"
#include "daemon/topology/yaml_words.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology {

namespace internal {

using nslab::v1::Endpoint;
using nslab::v1::Impairment;
using nslab::v1::Link;
using nslab::v1::Node;
using nslab::v1::Route;
using nslab::v1::Rule;
using nslab::v1::Topology;

using MaybeError = std::optional<FieldError>;

// Walks the YAML tree once, filling the proto and remembering the line of every path so
// that later (semantic) errors can point into the file too.
class Reader : public YamlFieldReader {
 public:
  MaybeError ReadTopology(const YAML::Node& root, Topology* out);
  friend absl::StatusOr<Impairment> topology::ReadImpairmentYaml(const YAML::Node&,
                                                                 const std::string&);

 private:
  // Checks that `node` is a map whose keys are all in `allowed`, recording lines.
  MaybeError ExpectMap(const YAML::Node& node, const std::string& path,
                       std::initializer_list<absl::string_view> allowed);
  MaybeError ExpectMapOfAnyKeys(const YAML::Node& node, const std::string& path);
  template <typename T, typename Parse>
  MaybeError Unit(const YAML::Node& node, const std::string& path, Parse parse, T* out);
  // One of `words` (yaml_words.h), set on `message` with `set`.
  template <typename Enum, size_t N, typename Message>
  MaybeError Choice(const YAML::Node& node, const std::string& path, const Word<Enum> (&words)[N],
                    Message* message, void (Message::*set)(Enum));
  // A duration the proto keeps in whole seconds (uint32).
  MaybeError Seconds(const YAML::Node& node, const std::string& path, bool round_up, uint64_t* out);

  MaybeError ReadNode(const std::string& name, const YAML::Node& node, const std::string& path,
                      Node* out);
  MaybeError ReadLink(const YAML::Node& node, const std::string& path, Link* out);
  MaybeError ReadEndpoint(const YAML::Node& link, char side, const std::string& path,
                          Endpoint* out);
  MaybeError ReadImpairment(const YAML::Node& node, const std::string& path, Impairment* out);
  MaybeError ReadRoute(const YAML::Node& node, const std::string& path, Route* out);
  MaybeError ReadRule(const YAML::Node& node, const std::string& path, Rule* out);
  MaybeError ReadProcess(const YAML::Node& node, const std::string& path, nslab::v1::Process* out);
  MaybeError ReadProcessReady(const YAML::Node& node, const std::string& path,
                              nslab::v1::ProcessReady* out);

  // Per-node sections at the top level (routes, rules, sysctls, run) name their node.
  MaybeError ForEachNodeSection(
      const YAML::Node& section, const std::string& path, Topology* topology,
      const std::function<MaybeError(const YAML::Node&, const std::string&, Node*)>& read);
};

template <typename T, typename Parse>
MaybeError Reader::Unit(const YAML::Node& node, const std::string& path, Parse parse, T* out) {
  if (!node.IsScalar()) {
    return Fail(node, path, "expected a value with a unit");
  }
  auto value = parse(node.Scalar());
  if (!value.ok()) {
    return Fail(node, path, std::string(value.status().message()));
  }
  *out = static_cast<T>(*value);
  return std::nullopt;
}

template <typename Enum, size_t N, typename Message>
MaybeError Reader::Choice(const YAML::Node& node, const std::string& path,
                          const Word<Enum> (&words)[N], Message* message,
                          void (Message::*set)(Enum)) {
  std::string text;
  NSLAB_TRY_FIELD(String(node, path, &text));
  const std::optional<Enum> value = FromWord(words, text);
  if (!value) {
    const absl::string_view key = absl::string_view(path).substr(path.find_last_of('.') + 1);
    return Fail(node, path,
                absl::StrCat("unknown ", key, " \"", text, "\" (known: ", KnownWords(words), ")"));
  }
  (message->*set)(*value);
  return std::nullopt;
}

}  // namespace internal
}  // namespace nslab::topology
