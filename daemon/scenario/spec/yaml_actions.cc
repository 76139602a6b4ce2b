#include "daemon/scenario/spec/yaml_actions.h"

#include <algorithm>
#include <iterator>

#include "daemon/impair/flow_match.h"
#include "daemon/topology/yaml_reader.h"

namespace nslab::scenario {
namespace {

using nslab::v1::Action;

using ActionReader = MaybeError (*)(YamlFields&, const YAML::Node&, const std::string&, Action*);

MaybeError ReadLinkAndDirection(YamlFields& fields, const YAML::Node& node, const std::string& path,
                                std::string* link, nslab::v1::Direction* direction) {
  if (!node["link"]) {
    return fields.Fail(node, JoinPath(path, "link"),
                       "missing (node:interface of either end, or the link's name)");
  }
  NSLAB_TRY_FIELD(fields.String(node["link"], JoinPath(path, "link"), link));
  if (node["direction"]) {
    NSLAB_TRY_FIELD(
        fields.Choice(node["direction"], JoinPath(path, "direction"), kDirectionWords, direction));
  }
  return std::nullopt;
}

// `match:`, the FlowMatch text of one flow, into `out`'s match when present.
template <typename ActionWithMatch>
MaybeError ReadMatch(YamlFields& fields, const YAML::Node& node, const std::string& path,
                     ActionWithMatch* out) {
  if (!node["match"]) {
    return std::nullopt;
  }
  const std::string match_path = JoinPath(path, "match");
  std::string text;
  NSLAB_TRY_FIELD(fields.String(node["match"], match_path, &text));
  absl::StatusOr<nslab::v1::FlowMatch> match = impair::ParseFlowMatch(text);
  if (!match.ok()) {
    return fields.Fail(node["match"], match_path, std::string(match.status().message()));
  }
  *out->mutable_match() = *std::move(match);
  return std::nullopt;
}

MaybeError ReadImpair(YamlFields& fields, const YAML::Node& node, const std::string& path,
                      Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(
      node, path,
      {"link", "direction", "match", "delay", "jitter", "delay_correlation", "distribution", "loss",
       "loss_correlation", "gilbert_elliott", "duplicate", "reorder", "reorder_gap", "corrupt",
       "rate", "burst", "limit", "trace_file", "trace"}));
  auto* impair = out->mutable_impair();
  nslab::v1::Direction direction = nslab::v1::DIRECTION_UNSPECIFIED;
  NSLAB_TRY_FIELD(ReadLinkAndDirection(fields, node, path, impair->mutable_link(), &direction));
  impair->set_direction(direction);
  NSLAB_TRY_FIELD(ReadMatch(fields, node, path, impair));
  // The impairment's keys, read by the topology reader so that both files spell them alike.
  // The key and value nodes are shared, not copied: errors keep their lines.
  YAML::Node keys(YAML::NodeType::Map);
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.Scalar() != "link" && it->first.Scalar() != "direction" &&
        it->first.Scalar() != "match") {
      keys.force_insert(it->first, it->second);
    }
  }
  auto impairment = topology::ReadImpairmentYaml(keys, path);
  if (!impairment.ok()) {
    // Already "path.key: message (line N)": keep it whole.
    return topology::FieldError{absl::StatusCode::kInvalidArgument, "",
                                std::string(impairment.status().message())};
  }
  *impair->mutable_impairment() = *std::move(impairment);
  return std::nullopt;
}

MaybeError ReadClear(YamlFields& fields, const YAML::Node& node, const std::string& path,
                     Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"link", "direction", "match"}));
  nslab::v1::Direction direction = nslab::v1::DIRECTION_UNSPECIFIED;
  NSLAB_TRY_FIELD(
      ReadLinkAndDirection(fields, node, path, out->mutable_clear()->mutable_link(), &direction));
  out->mutable_clear()->set_direction(direction);
  NSLAB_TRY_FIELD(ReadMatch(fields, node, path, out->mutable_clear()));
  return std::nullopt;
}

MaybeError ReadLinkState(YamlFields& fields, const YAML::Node& node, const std::string& path,
                         nslab::v1::LinkStateAction* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"link", "end"}));
  nslab::v1::Direction unused;
  NSLAB_TRY_FIELD(ReadLinkAndDirection(fields, node, path, out->mutable_link(), &unused));
  if (node["end"]) {
    nslab::v1::LinkEnd end = nslab::v1::LINK_END_UNSPECIFIED;
    NSLAB_TRY_FIELD(fields.Choice(node["end"], JoinPath(path, "end"), kLinkEndWords, &end));
    out->set_end(end);
  }
  return std::nullopt;
}

MaybeError ReadLinkDown(YamlFields& fields, const YAML::Node& node, const std::string& path,
                        Action* out) {
  return ReadLinkState(fields, node, path, out->mutable_link_down());
}

MaybeError ReadLinkUp(YamlFields& fields, const YAML::Node& node, const std::string& path,
                      Action* out) {
  return ReadLinkState(fields, node, path, out->mutable_link_up());
}

MaybeError ReadFlap(YamlFields& fields, const YAML::Node& node, const std::string& path,
                    Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"link", "end", "down", "up", "count"}));
  auto* flap = out->mutable_flap();
  nslab::v1::Direction unused;
  NSLAB_TRY_FIELD(ReadLinkAndDirection(fields, node, path, flap->mutable_link(), &unused));
  if (node["end"]) {
    nslab::v1::LinkEnd end = nslab::v1::LINK_END_UNSPECIFIED;
    NSLAB_TRY_FIELD(fields.Choice(node["end"], JoinPath(path, "end"), kLinkEndWords, &end));
    flap->set_end(end);
  }
  uint32_t ms = 0;
  if (node["down"]) {
    NSLAB_TRY_FIELD(fields.DurationMs(node["down"], JoinPath(path, "down"), &ms));
    flap->set_down_ms(ms);
  }
  if (node["up"]) {
    NSLAB_TRY_FIELD(fields.DurationMs(node["up"], JoinPath(path, "up"), &ms));
    flap->set_up_ms(ms);
  }
  if (node["count"]) {
    uint64_t count = 0;
    NSLAB_TRY_FIELD(fields.Uint(node["count"], JoinPath(path, "count"), UINT32_MAX, &count));
    flap->set_count(static_cast<uint32_t>(count));
  }
  return std::nullopt;
}

MaybeError ReadPartition(YamlFields& fields, const YAML::Node& node, const std::string& path,
                         Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"groups", "mode"}));
  auto* partition = out->mutable_partition();
  const std::string groups_path = JoinPath(path, "groups");
  const YAML::Node groups = node["groups"];
  if (!groups) {
    return fields.Fail(node, groups_path,
                       "missing (the groups of nodes, e.g. [[client], [server]])");
  }
  NSLAB_TRY_FIELD(fields.ExpectSequence(groups, groups_path));
  for (size_t i = 0; i < groups.size(); ++i) {
    // `[client, server]` is two groups of one node each.
    NSLAB_TRY_FIELD(fields.StringList(groups[i], IndexPath(groups_path, i),
                                      partition->add_groups()->mutable_nodes()));
  }
  if (node["mode"]) {
    nslab::v1::PartitionMode mode = nslab::v1::PARTITION_MODE_UNSPECIFIED;
    NSLAB_TRY_FIELD(
        fields.Choice(node["mode"], JoinPath(path, "mode"), kPartitionModeWords, &mode));
    partition->set_mode(mode);
  }
  return std::nullopt;
}

MaybeError ReadHeal(YamlFields& fields, const YAML::Node& node, const std::string& path,
                    Action* out) {
  if (!node.IsNull()) {
    NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {}));
  }
  out->mutable_heal();
  return std::nullopt;
}

MaybeError ReadNode(YamlFields& fields, const YAML::Node& node, const std::string& path,
                    std::string* out) {
  if (!node["node"]) {
    return fields.Fail(node, JoinPath(path, "node"), "missing (the node's name)");
  }
  return fields.String(node["node"], JoinPath(path, "node"), out);
}

MaybeError ReadFirewall(YamlFields& fields, const YAML::Node& node, const std::string& path,
                        Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"node", "ruleset"}));
  NSLAB_TRY_FIELD(ReadNode(fields, node, path, out->mutable_firewall()->mutable_node()));
  if (!node["ruleset"]) {
    return fields.Fail(node, JoinPath(path, "ruleset"), "missing (the text of an nft -f file)");
  }
  return fields.String(node["ruleset"], JoinPath(path, "ruleset"),
                       out->mutable_firewall()->mutable_ruleset());
}

MaybeError ReadFlushFirewall(YamlFields& fields, const YAML::Node& node, const std::string& path,
                             Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"node"}));
  return ReadNode(fields, node, path, out->mutable_flush_firewall()->mutable_node());
}

MaybeError ReadApply(YamlFields& fields, const YAML::Node& node, const std::string& path,
                     Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"topology"}));
  const YAML::Node topology = node["topology"];
  if (!topology || !topology.IsMap()) {
    return fields.Fail(node, JoinPath(path, "topology"),
                       "missing (the new topology, inline: nodes:, links:, ...)");
  }
  // The topology reader takes text: the inline map, written back out, is that text.
  YAML::Emitter text;
  text << topology;
  auto read = topology::ReadTopologyYaml(text.c_str());
  if (!read.ok()) {
    return fields.Fail(topology, JoinPath(path, "topology"), std::string(read.status().message()));
  }
  *out->mutable_apply()->mutable_topology() = std::move(*read);
  return std::nullopt;
}

MaybeError ReadProcess(YamlFields& fields, const YAML::Node& node, const std::string& path,
                       nslab::v1::ProcessAction* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"node", "process", "signal"}));
  NSLAB_TRY_FIELD(ReadNode(fields, node, path, out->mutable_node()));
  if (node["process"]) {
    NSLAB_TRY_FIELD(
        fields.String(node["process"], JoinPath(path, "process"), out->mutable_process()));
  }
  if (node["signal"]) {
    NSLAB_TRY_FIELD(fields.String(node["signal"], JoinPath(path, "signal"), out->mutable_signal()));
  }
  return std::nullopt;
}

MaybeError ReadKill(YamlFields& fields, const YAML::Node& node, const std::string& path,
                    Action* out) {
  return ReadProcess(fields, node, path, out->mutable_kill());
}

MaybeError ReadRestart(YamlFields& fields, const YAML::Node& node, const std::string& path,
                       Action* out) {
  return ReadProcess(fields, node, path, out->mutable_restart());
}

MaybeError ReadExec(YamlFields& fields, const YAML::Node& node, const std::string& path,
                    Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"node", "argv", "cmd", "timeout"}));
  auto* exec = out->mutable_exec();
  NSLAB_TRY_FIELD(ReadNode(fields, node, path, exec->mutable_node()));
  NSLAB_TRY_FIELD(ReadCommandYaml(fields, node, path, exec->mutable_argv()));
  if (node["timeout"]) {
    uint32_t ms = 0;
    NSLAB_TRY_FIELD(fields.DurationMs(node["timeout"], JoinPath(path, "timeout"), &ms));
    exec->set_timeout_ms(ms);
  }
  return std::nullopt;
}

MaybeError ReadUstackFault(YamlFields& fields, const YAML::Node& node, const std::string& path,
                           Action* out) {
  NSLAB_TRY_FIELD(fields.ExpectMap(node, path, {"node", "port", "mode", "bytes", "rate"}));
  auto* fault = out->mutable_ustack_fault();
  NSLAB_TRY_FIELD(ReadNode(fields, node, path, fault->mutable_node()));
  if (!node["port"]) {
    return fields.Fail(node, JoinPath(path, "port"), "missing (the listening port)");
  }
  uint64_t number = 0;
  NSLAB_TRY_FIELD(fields.Uint(node["port"], JoinPath(path, "port"), 65535, &number));
  fault->set_port(static_cast<uint32_t>(number));
  if (!node["mode"]) {
    return fields.Fail(node, JoinPath(path, "mode"), "missing (e.g. close-wait, refuse, clear)");
  }
  NSLAB_TRY_FIELD(fields.String(node["mode"], JoinPath(path, "mode"), fault->mutable_mode()));
  if (node["bytes"]) {
    NSLAB_TRY_FIELD(fields.Size(node["bytes"], JoinPath(path, "bytes"), &number));
    fault->set_bytes(number);
  }
  if (node["rate"]) {
    NSLAB_TRY_FIELD(fields.Size(node["rate"], JoinPath(path, "rate"), &number));
    fault->set_rate(number);
  }
  return std::nullopt;
}

struct ActionKind {
  absl::string_view key;
  ActionReader read;
};

constexpr ActionKind kActionKinds[] = {{"impair", ReadImpair},
                                       {"clear", ReadClear},
                                       {"link_down", ReadLinkDown},
                                       {"link_up", ReadLinkUp},
                                       {"flap", ReadFlap},
                                       {"partition", ReadPartition},
                                       {"heal", ReadHeal},
                                       {"firewall", ReadFirewall},
                                       {"flush_firewall", ReadFlushFirewall},
                                       {"kill", ReadKill},
                                       {"restart", ReadRestart},
                                       {"exec", ReadExec},
                                       {"ustack_fault", ReadUstackFault},
                                       {"apply", ReadApply}};

}  // namespace

bool IsActionKey(absl::string_view key) {
  return std::find(std::begin(kActionKeys), std::end(kActionKeys), key) != std::end(kActionKeys);
}

MaybeError ReadCommandYaml(YamlFields& fields, const YAML::Node& node, const std::string& path,
                           google::protobuf::RepeatedPtrField<std::string>* argv) {
  if (node["cmd"] && node["argv"]) {
    return fields.Fail(node, path, "give either cmd or argv, not both");
  }
  if (node["cmd"]) {
    std::string command;
    NSLAB_TRY_FIELD(fields.String(node["cmd"], JoinPath(path, "cmd"), &command));
    // A string runs through the shell, so pipes and redirections work as typed (as run:).
    argv->Add("/bin/sh");
    argv->Add("-c");
    argv->Add(std::move(command));
    return std::nullopt;
  }
  if (node["argv"]) {
    return fields.StringList(node["argv"], JoinPath(path, "argv"), argv);
  }
  return fields.Fail(node, JoinPath(path, "argv"),
                     "missing (argv: [program, args...] or cmd: \"shell text\")");
}

MaybeError ReadActionYaml(YamlFields& fields, absl::string_view key, const YAML::Node& node,
                          const std::string& path, Action* out) {
  for (const ActionKind& kind : kActionKinds) {
    if (kind.key == key) {
      return kind.read(fields, node, path, out);
    }
  }
  return fields.Fail(node, path, absl::StrCat("unknown action \"", key, "\""));
}

}  // namespace nslab::scenario
