#include "daemon/scenario/spec/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/scenario/spec/validate.h"
#include "daemon/scenario/spec/yaml_actions.h"
#include "daemon/scenario/spec/yaml_fields.h"
#include "daemon/topology/yaml_limits.h"

namespace nslab::scenario {
namespace {

using nslab::v1::Check;
using nslab::v1::Scenario;
using nslab::v1::Step;

constexpr absl::string_view kStepKeys[] = {"at", "for", "jitter", "check", "parallel", "serial"};
constexpr absl::string_view kProbeKeys[] = {"tcp", "http", "ping", "exec", "counter"};

class ScenarioReader {
 public:
  MaybeError Read(const YAML::Node& root, Scenario* out);
  const YamlFields& fields() const { return fields_; }

 private:
  MaybeError ReadStep(const YAML::Node& node, const std::string& path, bool in_serial, Step* out);
  MaybeError ReadSteps(const YAML::Node& node, const std::string& path, bool serial,
                       google::protobuf::RepeatedPtrField<Step>* out);
  MaybeError ReadCheck(const YAML::Node& node, const std::string& path,
                       const std::string& step_path, bool step_has_for, Step* step);
  MaybeError ReadProbe(const YAML::Node& node, absl::string_view key, const std::string& path,
                       Check* out);

  YamlFields fields_;
};

MaybeError ScenarioReader::Read(const YAML::Node& root, Scenario* out) {
  if (!root.IsDefined() || root.IsNull()) {
    return fields_.Fail(root, "", "the scenario is empty");
  }
  NSLAB_TRY_FIELD(fields_.ExpectMap(root, "", {"name", "seed", "steps"}));
  if (root["name"]) {
    NSLAB_TRY_FIELD(fields_.String(root["name"], "name", out->mutable_name()));
  }
  if (root["seed"]) {
    uint64_t seed = 0;
    NSLAB_TRY_FIELD(fields_.Uint(root["seed"], "seed", UINT64_MAX, &seed));
    out->set_seed(seed);
  }
  if (!root["steps"]) {
    return fields_.Fail(root, "steps", "a scenario needs at least one step");
  }
  return ReadSteps(root["steps"], "steps", /*serial=*/false, out->mutable_steps());
}

MaybeError ScenarioReader::ReadSteps(const YAML::Node& node, const std::string& path, bool serial,
                                     google::protobuf::RepeatedPtrField<Step>* out) {
  NSLAB_TRY_FIELD(fields_.ExpectSequence(node, path));
  // Validation counts again on the message; stopping here spares reading a huge file.
  if (node.size() > kMaxSteps) {
    return fields_.Fail(node, path, absl::StrCat("a scenario has at most ", kMaxSteps, " steps"));
  }
  for (size_t i = 0; i < node.size(); ++i) {
    NSLAB_TRY_FIELD(ReadStep(node[i], IndexPath(path, i), serial, out->Add()));
  }
  return std::nullopt;
}

MaybeError ScenarioReader::ReadStep(const YAML::Node& node, const std::string& path, bool in_serial,
                                    Step* out) {
  if (!node.IsMap()) {
    return fields_.Fail(node, path, "expected a map (a step: {at: 1s, <action or check>: ...})");
  }
  std::vector<std::string> kinds;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      return fields_.Fail(it->first, path, "keys must be plain words");
    }
    const std::string key = it->first.Scalar();
    fields_.Record(JoinPath(path, key), it->first);
    const bool step_key =
        std::find(std::begin(kStepKeys), std::end(kStepKeys), key) != std::end(kStepKeys);
    if (!step_key && !IsActionKey(key)) {
      std::vector<absl::string_view> known(std::begin(kActionKeys), std::end(kActionKeys));
      known.insert(known.end(), std::begin(kStepKeys), std::end(kStepKeys));
      const absl::string_view suggestion = Suggest(key, known);
      return fields_.Fail(
          it->first, path,
          absl::StrCat("unknown key \"", key, "\"",
                       suggestion.empty() ? "" : absl::StrCat(" (did you mean ", suggestion, "?)"),
                       "; an action is one of ", absl::StrJoin(kActionKeys, ", "),
                       "; a step also has check, parallel, serial, at, for, jitter"));
    }
    if (IsActionKey(key) || key == "check" || key == "parallel" || key == "serial") {
      kinds.push_back(key);
    }
  }
  if (kinds.empty()) {
    return fields_.Fail(node, path,
                        "a step needs one action, check, parallel or serial (e.g. "
                        "{at: 1s, link_down: {link: wan}})");
  }
  if (kinds.size() > 1) {
    return fields_.Fail(node[kinds[1]], JoinPath(path, kinds[1]),
                        absl::StrCat("a step has one action or check; this one has both ", kinds[0],
                                     " and ", kinds[1], " (write two steps)"));
  }
  uint32_t ms = 0;
  if (node["at"]) {
    NSLAB_TRY_FIELD(fields_.DurationMs(node["at"], JoinPath(path, "at"), &ms));
    out->set_at_ms(ms);
  } else if (!in_serial) {
    return fields_.Fail(node, JoinPath(path, "at"),
                        "missing (when the step starts, from the scenario's or group's start, "
                        "e.g. at: 1s)");
  }
  if (node["for"]) {
    NSLAB_TRY_FIELD(fields_.DurationMs(node["for"], JoinPath(path, "for"), &ms));
    out->set_for_ms(ms);
  }
  if (node["jitter"]) {
    NSLAB_TRY_FIELD(fields_.DurationMs(node["jitter"], JoinPath(path, "jitter"), &ms));
    out->set_jitter_ms(ms);
  }
  const std::string& kind = kinds[0];
  const std::string kind_path = JoinPath(path, kind);
  if (kind == "check") {
    return ReadCheck(node["check"], kind_path, path, node["for"].IsDefined(), out);
  }
  if (kind == "parallel") {
    return ReadSteps(node["parallel"], kind_path, /*serial=*/false,
                     out->mutable_parallel()->mutable_steps());
  }
  if (kind == "serial") {
    return ReadSteps(node["serial"], kind_path, /*serial=*/true,
                     out->mutable_serial()->mutable_steps());
  }
  return ReadActionYaml(fields_, kind, node[kind], kind_path, out->mutable_action());
}

MaybeError ScenarioReader::ReadCheck(const YAML::Node& node, const std::string& path,
                                     const std::string& step_path, bool step_has_for, Step* step) {
  NSLAB_TRY_FIELD(fields_.ExpectMap(
      node, path,
      {"name", "from", "tcp", "http", "ping", "exec", "counter", "timeout", "expect", "within",
       "every", "for", "status", "count", "max_loss", "max_rtt", "exit"}));
  Check* out = step->mutable_check();
  auto field = [&](absl::string_view key) { return JoinPath(path, key); };
  if (node["name"]) {
    NSLAB_TRY_FIELD(fields_.String(node["name"], field("name"), out->mutable_name()));
  }
  if (node["from"]) {
    NSLAB_TRY_FIELD(fields_.String(node["from"], field("from"), out->mutable_from()));
  }
  absl::string_view probe;
  for (absl::string_view key : kProbeKeys) {
    const YAML::Node value = node[std::string(key)];
    if (!value) {
      continue;
    }
    if (!probe.empty()) {
      return fields_.Fail(value, field(key),
                          absl::StrCat("a check has one probe; this one has both ", probe, " and ",
                                       key, " (write two checks)"));
    }
    probe = key;
    NSLAB_TRY_FIELD(ReadProbe(value, key, field(key), out));
  }
  if (node["exit"]) {
    if (probe != "exec") {
      return fields_.Fail(node["exit"], field("exit"), "only an exec check takes exit:");
    }
    uint64_t code = 0;
    NSLAB_TRY_FIELD(fields_.Uint(node["exit"], field("exit"), 255, &code));
    out->mutable_exec()->set_exit(static_cast<int32_t>(code));
  }
  uint32_t ms = 0;
  for (const auto& [key, set] :
       {std::pair{"timeout", &Check::set_timeout_ms}, std::pair{"within", &Check::set_within_ms},
        std::pair{"every", &Check::set_every_ms}}) {
    if (node[key]) {
      NSLAB_TRY_FIELD(fields_.DurationMs(node[key], field(key), &ms));
      (out->*set)(ms);
    }
  }
  if (node["for"]) {
    // A continuous check's `for` may sit in the check, beside `every`; it is the step's.
    if (step_has_for) {
      return fields_.Fail(node["for"], field("for"),
                          "for: is given twice, in the step and in its check (keep one)");
    }
    NSLAB_TRY_FIELD(fields_.DurationMs(node["for"], field("for"), &ms));
    fields_.Record(JoinPath(step_path, "for"), node["for"]);
    step->set_for_ms(ms);
  }
  if (node["expect"]) {
    nslab::v1::Expect expect = nslab::v1::EXPECT_UNSPECIFIED;
    NSLAB_TRY_FIELD(fields_.Choice(node["expect"], field("expect"), kExpectWords, &expect));
    out->set_expect(expect);
  }
  if (node["status"]) {
    uint64_t status = 0;
    NSLAB_TRY_FIELD(fields_.Uint(node["status"], field("status"), 999, &status));
    out->set_status(static_cast<uint32_t>(status));
  }
  if (node["count"]) {
    uint64_t count = 0;
    NSLAB_TRY_FIELD(fields_.Uint(node["count"], field("count"), UINT32_MAX, &count));
    out->set_count(static_cast<uint32_t>(count));
  }
  if (node["max_loss"]) {
    double percent = 0;
    NSLAB_TRY_FIELD(fields_.Percent(node["max_loss"], field("max_loss"), &percent));
    out->set_max_loss(percent);
  }
  if (node["max_rtt"]) {
    uint32_t us = 0;
    NSLAB_TRY_FIELD(fields_.DurationUs(node["max_rtt"], field("max_rtt"), &us));
    out->set_max_rtt_us(us);
  }
  return std::nullopt;
}

MaybeError ScenarioReader::ReadProbe(const YAML::Node& node, absl::string_view key,
                                     const std::string& path, Check* out) {
  if (key == "tcp") {
    return fields_.String(node, path, out->mutable_tcp());
  }
  if (key == "http") {
    return fields_.String(node, path, out->mutable_http());
  }
  if (key == "ping") {
    return fields_.String(node, path, out->mutable_ping());
  }
  if (key == "exec") {
    auto* argv = out->mutable_exec()->mutable_argv();
    if (node.IsMap()) {
      NSLAB_TRY_FIELD(fields_.ExpectMap(node, path, {"cmd", "argv"}));
      return ReadCommandYaml(fields_, node, path, argv);
    }
    if (node.IsScalar()) {
      return fields_.Fail(node, path,
                          "write exec: [program, args...] or exec: {cmd: \"shell text\"}");
    }
    return fields_.StringList(node, path, argv);
  }
  // counter
  NSLAB_TRY_FIELD(
      fields_.ExpectMap(node, path, {"wire", "ustack", "nft", "min", "max", "increase"}));
  auto* counter = out->mutable_counter();
  absl::string_view source;
  for (const auto& [name, mutable_source] :
       {std::pair{"wire", &nslab::v1::CounterProbe::mutable_wire},
        std::pair{"ustack", &nslab::v1::CounterProbe::mutable_ustack},
        std::pair{"nft", &nslab::v1::CounterProbe::mutable_nft}}) {
    if (!node[name]) {
      continue;
    }
    if (!source.empty()) {
      return fields_.Fail(
          node[name], JoinPath(path, name),
          absl::StrCat("a counter has one source; this one has both ", source, " and ", name));
    }
    source = name;
    NSLAB_TRY_FIELD(fields_.String(node[name], JoinPath(path, name), (counter->*mutable_source)()));
  }
  uint64_t bound = 0;
  if (node["min"]) {
    NSLAB_TRY_FIELD(fields_.Uint(node["min"], JoinPath(path, "min"), UINT64_MAX, &bound));
    counter->set_min(bound);
  }
  if (node["max"]) {
    NSLAB_TRY_FIELD(fields_.Uint(node["max"], JoinPath(path, "max"), UINT64_MAX, &bound));
    counter->set_max(bound);
  }
  if (node["increase"]) {
    bool increase = false;
    NSLAB_TRY_FIELD(fields_.Bool(node["increase"], JoinPath(path, "increase"), &increase));
    counter->set_increase(increase);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Scenario> ReadScenarioYaml(absl::string_view text) {
  if (text.size() > kMaxScenarioBytes) {
    return absl::InvalidArgumentError("the scenario is larger than 1 MiB");
  }
  auto root = topology::LoadCheckedYaml(text);
  if (!root.ok()) {
    return root.status();
  }
  ScenarioReader reader;
  Scenario scenario;
  MaybeError error;
  if (auto thrown =
          topology::CatchYamlErrors("scenario", [&] { error = reader.Read(*root, &scenario); });
      !thrown.ok()) {
    return thrown;
  }
  if (!error) {
    error = FindScenarioProblem(scenario);
    if (error && error->line == 0) {
      error->line = reader.fields().FindLine(error->path);
    }
  }
  if (error) {
    return error->ToStatus();
  }
  return scenario;
}

absl::StatusOr<Scenario> ScenarioOfRequest(const Scenario* message, absl::string_view yaml) {
  if (message != nullptr && !yaml.empty()) {
    return absl::InvalidArgumentError(
        "the request carries both scenario and scenario_yaml; send the scenario one way");
  }
  if (message != nullptr) {
    return *message;
  }
  if (yaml.empty()) {
    return absl::InvalidArgumentError(
        "the request carries no scenario: set scenario_yaml to a scenario file's text, or "
        "scenario");
  }
  return ReadScenarioYaml(yaml);
}

}  // namespace nslab::scenario
