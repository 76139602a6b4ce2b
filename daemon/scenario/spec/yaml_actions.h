#pragma once

// Internal to the scenario reader: each action's YAML map, read into its message. The table
// in yaml_actions.cc is the one list of action keys: a new action is one reader there.

#include <yaml-cpp/yaml.h>

#include <string>

#include "absl/strings/string_view.h"
#include "daemon/scenario/spec/yaml_fields.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// The keys that make a step an action, in the order documentation lists them.
inline constexpr absl::string_view kActionKeys[] = {
    "impair",   "clear",          "link_down", "link_up", "flap", "partition",    "heal",
    "firewall", "flush_firewall", "kill",      "restart", "exec", "ustack_fault", "apply"};

bool IsActionKey(absl::string_view key);

// Reads the value of action `key` (one of kActionKeys) at `path` ("steps[1].partition").
MaybeError ReadActionYaml(YamlFields& fields, absl::string_view key, const YAML::Node& node,
                          const std::string& path, nslab::v1::Action* out);

// A command as `cmd: "shell text"` (run by /bin/sh -c) or `argv: [program, args...]` among
// the keys of `node` (exactly one of the two), appended to `argv`.
MaybeError ReadCommandYaml(YamlFields& fields, const YAML::Node& node, const std::string& path,
                           google::protobuf::RepeatedPtrField<std::string>* argv);

}  // namespace nslab::scenario
