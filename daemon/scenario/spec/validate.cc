#include "daemon/scenario/spec/validate.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/common/units.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/validate.h"
#include "daemon/scenario/spec/describe.h"
#include "daemon/scenario/spec/signals.h"
#include "daemon/scenario/spec/words.h"
#include "daemon/topology/names.h"
#include "daemon/topology/validate.h"

namespace nslab::scenario {
namespace {

using nslab::v1::Action;
using nslab::v1::Check;
using nslab::v1::Scenario;
using nslab::v1::Step;
using topology::FieldError;

using MaybeError = std::optional<FieldError>;

MaybeError Fail(std::string path, std::string message) {
  return FieldError{absl::StatusCode::kInvalidArgument, std::move(path), std::move(message)};
}

MaybeError FromStatus(std::string path, const absl::Status& status) {
  if (status.ok()) {
    return std::nullopt;
  }
  return Fail(std::move(path), std::string(status.message()));
}

std::string Join(absl::string_view path, absl::string_view key) {
  return absl::StrCat(path, ".", key);
}

std::string Duration(uint64_t ms) { return FormatDurationUs(ms * 1000); }

MaybeError CheckDuration(const std::string& path, uint64_t ms) {
  if (ms > kMaxDurationMs) {
    return Fail(path, absl::StrCat(Duration(ms), " is longer than 24h"));
  }
  return std::nullopt;
}

bool HasSpaceOrControl(absl::string_view text) {
  for (char c : text) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) {
      return true;
    }
  }
  return false;
}

// A link as the chaos verbs take it: "node:interface" of either end, or the link's name.
MaybeError CheckLink(const std::string& path, absl::string_view link) {
  if (link.empty()) {
    return Fail(path, "missing (node:interface of either end, or the link's name)");
  }
  if (HasSpaceOrControl(link)) {
    return Fail(path, absl::StrCat("\"", link, "\" is not a link (node:interface or a name)"));
  }
  return std::nullopt;
}

MaybeError CheckNode(const std::string& path, absl::string_view node) {
  if (node.empty()) {
    return Fail(path, "missing (the node's name)");
  }
  return FromStatus(path, topology::CheckNodeName(node));
}

// "10.0.0.2", "server", "::1": where a probe goes.
MaybeError CheckHost(const std::string& path, absl::string_view host, absl::string_view example) {
  if (host.empty() || HasSpaceOrControl(host) || absl::StrContains(host, '/')) {
    return Fail(path, absl::StrCat("\"", host, "\" is not an address (e.g. ", example, ")"));
  }
  return std::nullopt;
}

MaybeError CheckPort(const std::string& path, absl::string_view text, absl::string_view whole) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port) || port == 0 || port > 65535) {
    return Fail(path, absl::StrCat("\"", whole, "\" needs a port from 1 to 65535"));
  }
  return std::nullopt;
}

// "10.0.0.2:8080", "[2001:db8::2]:80", "server:80".
MaybeError CheckHostPort(const std::string& path, absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return Fail(path, absl::StrCat("\"", text, "\" is not address:port (e.g. 10.0.0.2:8080)"));
  }
  absl::string_view host = text.substr(0, colon);
  if (absl::StrContains(host, ':')) {
    if (host.size() < 2 || host.front() != '[' || host.back() != ']') {
      return Fail(path, absl::StrCat("\"", text, "\": write an IPv6 address in brackets, e.g. ",
                                     "[2001:db8::2]:80"));
    }
    host = host.substr(1, host.size() - 2);
  }
  NSLAB_TRY_FIELD(CheckHost(path, host, "10.0.0.2:8080"));
  return CheckPort(path, text.substr(colon + 1), text);
}

MaybeError CheckArgv(const std::string& path,
                     const google::protobuf::RepeatedPtrField<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) {
    return Fail(path, "missing (argv: [program, args...] or cmd: \"shell text\")");
  }
  return std::nullopt;
}

class Validator {
 public:
  MaybeError Run(const Scenario& scenario);

 private:
  MaybeError CheckStep(const Step& step, const std::string& path, int depth);
  MaybeError CheckAction(const Action& action, const std::string& path);
  MaybeError CheckFlowMatch(const std::string& path, const nslab::v1::FlowMatch& match);
  MaybeError CheckCheck(const Check& check, uint32_t for_ms, const std::string& step_path);
  MaybeError CheckCounter(const Check& check, const std::string& check_path);

  size_t steps_ = 0;
  std::map<std::string, std::string> check_paths_;  // name -> where it was first used
};

MaybeError Validator::Run(const Scenario& scenario) {
  if (scenario.name().empty()) {
    return Fail("name", "missing (the scenario's name, e.g. name: web-survives-partition)");
  }
  // A scenario's name follows a lab's rules: it names reports, files and JUnit suites.
  if (absl::Status status = topology::CheckLabName(scenario.name()); !status.ok()) {
    absl::string_view message = status.message();
    absl::ConsumePrefix(&message, "lab ");
    return Fail("name", absl::StrCat("scenario ", message));
  }
  if (scenario.steps().empty()) {
    return Fail("steps", "a scenario needs at least one step");
  }
  for (int i = 0; i < scenario.steps_size(); ++i) {
    NSLAB_TRY_FIELD(CheckStep(scenario.steps(i), absl::StrCat("steps[", i, "]"), 1));
  }
  return std::nullopt;
}

MaybeError Validator::CheckStep(const Step& step, const std::string& path, int depth) {
  if (++steps_ > kMaxSteps) {
    return Fail(path, absl::StrCat("a scenario has at most ", kMaxSteps, " steps in all"));
  }
  if (depth > kMaxDepth) {
    return Fail(path, absl::StrCat("groups nest at most ", kMaxDepth, " deep"));
  }
  NSLAB_TRY_FIELD(CheckDuration(Join(path, "at"), step.at_ms()));
  NSLAB_TRY_FIELD(CheckDuration(Join(path, "for"), step.for_ms()));
  NSLAB_TRY_FIELD(CheckDuration(Join(path, "jitter"), step.jitter_ms()));
  switch (step.kind_case()) {
    case Step::kAction: {
      const std::string action_path = Join(path, ActionKey(step.action()));
      NSLAB_TRY_FIELD(CheckAction(step.action(), action_path));
      if (step.for_ms() > 0 && !IsUndoable(step.action())) {
        return Fail(Join(path, "for"),
                    absl::StrCat(ActionKey(step.action()),
                                 " cannot be undone, so it takes no for: (only impair, clear, "
                                 "link_down, link_up, partition, firewall, flush_firewall, "
                                 "ustack_fault, apply do)"));
      }
      return std::nullopt;
    }
    case Step::kCheck:
      return CheckCheck(step.check(), step.for_ms(), path);
    case Step::kParallel:
    case Step::kSerial: {
      const bool parallel = step.kind_case() == Step::kParallel;
      const std::string group_path = Join(path, parallel ? "parallel" : "serial");
      const auto& members = parallel ? step.parallel().steps() : step.serial().steps();
      if (members.empty()) {
        return Fail(group_path, "an empty group (give it at least one step)");
      }
      if (step.for_ms() > 0) {
        return Fail(Join(path, "for"), "a group takes no for: (give it to its members)");
      }
      for (int i = 0; i < members.size(); ++i) {
        NSLAB_TRY_FIELD(CheckStep(members[i], absl::StrCat(group_path, "[", i, "]"), depth + 1));
      }
      return std::nullopt;
    }
    case Step::KIND_NOT_SET:
      break;
  }
  return Fail(path, "a step needs one action, check, parallel or serial");
}

MaybeError Validator::CheckFlowMatch(const std::string& path, const nslab::v1::FlowMatch& match) {
  if (match.ByteSizeLong() == 0) {
    return Fail(path, "an empty match selects every frame: leave match out to impair the link");
  }
  return FromStatus(path, impair::ValidateFlowMatch(match));
}

MaybeError Validator::CheckAction(const Action& action, const std::string& path) {
  auto field = [&](absl::string_view key) { return Join(path, key); };
  switch (action.kind_case()) {
    case Action::kImpair: {
      const auto& impair = action.impair();
      NSLAB_TRY_FIELD(CheckLink(field("link"), impair.link()));
      if (!nslab::v1::Direction_IsValid(impair.direction())) {
        return Fail(field("direction"), "not one of both, a-to-b, b-to-a");
      }
      if (impair.has_match()) {
        NSLAB_TRY_FIELD(CheckFlowMatch(field("match"), impair.match()));
      } else if (impair.impairment().ByteSizeLong() == 0) {
        return Fail(path, "sets no impairment (give delay, loss, rate, ...; clear: removes one)");
      }
      if (impair.impairment().ByteSizeLong() == 0) {
        return std::nullopt;  // a flow that passes untouched
      }
      return FromStatus(path, impair::ValidateImpairment(impair.impairment()));
    }
    case Action::kClear:
      NSLAB_TRY_FIELD(CheckLink(field("link"), action.clear().link()));
      if (!nslab::v1::Direction_IsValid(action.clear().direction())) {
        return Fail(field("direction"), "not one of both, a-to-b, b-to-a");
      }
      if (action.clear().has_match()) {
        return CheckFlowMatch(field("match"), action.clear().match());
      }
      return std::nullopt;
    case Action::kLinkDown:
    case Action::kLinkUp: {
      const auto& state =
          action.kind_case() == Action::kLinkDown ? action.link_down() : action.link_up();
      NSLAB_TRY_FIELD(CheckLink(field("link"), state.link()));
      if (!nslab::v1::LinkEnd_IsValid(state.end())) {
        return Fail(field("end"), "not one of a, b, both");
      }
      return std::nullopt;
    }
    case Action::kFlap: {
      const auto& flap = action.flap();
      NSLAB_TRY_FIELD(CheckLink(field("link"), flap.link()));
      if (!nslab::v1::LinkEnd_IsValid(flap.end())) {
        return Fail(field("end"), "not one of a, b, both");
      }
      if (flap.down_ms() == 0) {
        return Fail(field("down"), "missing (how long the link stays down each time, e.g. 200ms)");
      }
      if (flap.up_ms() == 0) {
        return Fail(field("up"), "missing (how long the link stays up each time, e.g. 1s)");
      }
      NSLAB_TRY_FIELD(CheckDuration(field("down"), flap.down_ms()));
      NSLAB_TRY_FIELD(CheckDuration(field("up"), flap.up_ms()));
      if (flap.count() == 0 || flap.count() > 100'000) {
        return Fail(field("count"), "must be from 1 to 100000 (how many times to flap)");
      }
      return std::nullopt;
    }
    case Action::kPartition: {
      const auto& partition = action.partition();
      if (partition.groups_size() < 2) {
        return Fail(field("groups"), "a partition needs at least two groups, e.g. [[a], [b]]");
      }
      std::set<std::string> seen;
      for (int g = 0; g < partition.groups_size(); ++g) {
        const std::string group_path = absl::StrCat(field("groups"), "[", g, "]");
        if (partition.groups(g).nodes().empty()) {
          return Fail(group_path, "an empty group");
        }
        for (int n = 0; n < partition.groups(g).nodes_size(); ++n) {
          const std::string& node = partition.groups(g).nodes(n);
          const std::string node_path = absl::StrCat(group_path, "[", n, "]");
          NSLAB_TRY_FIELD(CheckNode(node_path, node));
          if (!seen.insert(node).second) {
            return Fail(node_path, absl::StrCat("node \"", node, "\" is in two groups"));
          }
        }
      }
      if (!nslab::v1::PartitionMode_IsValid(partition.mode())) {
        return Fail(field("mode"), "not one of drop, reject");
      }
      return std::nullopt;
    }
    case Action::kHeal:
      return std::nullopt;
    case Action::kFirewall:
      NSLAB_TRY_FIELD(CheckNode(field("node"), action.firewall().node()));
      if (action.firewall().ruleset().empty()) {
        return Fail(field("ruleset"), "missing (the nft -f text; flush_firewall: removes one)");
      }
      return std::nullopt;
    case Action::kFlushFirewall:
      return CheckNode(field("node"), action.flush_firewall().node());
    case Action::kApply:
      if (action.apply().topology().nodes_size() == 0) {
        return Fail(field("topology"), "missing (the new topology, inline: nodes:, links:, ...)");
      }
      if (auto error = topology::ValidateTopology(action.apply().topology())) {
        return Fail(Join(field("topology"), error->path), error->message);
      }
      return std::nullopt;
    case Action::kKill:
    case Action::kRestart: {
      const auto& process = action.kind_case() == Action::kKill ? action.kill() : action.restart();
      NSLAB_TRY_FIELD(CheckNode(field("node"), process.node()));
      if (HasSpaceOrControl(process.process())) {
        return Fail(field("process"),
                    "a program name, as in the node's run: argv[0] (or its base name), or stack");
      }
      return FromStatus(field("signal"), SignalNumber(process.signal()).status());
    }
    case Action::kExec:
      NSLAB_TRY_FIELD(CheckNode(field("node"), action.exec().node()));
      NSLAB_TRY_FIELD(CheckArgv(field("argv"), action.exec().argv()));
      return CheckDuration(field("timeout"), action.exec().timeout_ms());
    case Action::kUstackFault: {
      const auto& fault = action.ustack_fault();
      NSLAB_TRY_FIELD(CheckNode(field("node"), fault.node()));
      if (fault.port() == 0 || fault.port() > 65535) {
        return Fail(field("port"), "must be from 1 to 65535 (the listening port)");
      }
      bool known = false;
      for (absl::string_view mode : kUstackFaultModes) {
        known = known || mode == fault.mode();
      }
      if (!known) {
        return Fail(field("mode"), absl::StrCat("\"", fault.mode(), "\" is not one of ",
                                                absl::StrJoin(kUstackFaultModes, ", ")));
      }
      if (fault.mode() == "reset-after" && fault.bytes() == 0) {
        return Fail(field("bytes"), "reset-after needs bytes: (how many bytes before the reset)");
      }
      if (fault.mode() != "reset-after" && fault.bytes() != 0) {
        return Fail(field("bytes"), "only reset-after takes bytes:");
      }
      if (fault.mode() == "slow-read" && fault.rate() == 0) {
        return Fail(field("rate"), "slow-read needs rate: (bytes per second it reads)");
      }
      if (fault.mode() != "slow-read" && fault.rate() != 0) {
        return Fail(field("rate"), "only slow-read takes rate:");
      }
      return std::nullopt;
    }
    case Action::KIND_NOT_SET:
      break;
  }
  return Fail(path, "an empty action (set one of its kinds)");
}

MaybeError Validator::CheckCheck(const Check& check, uint32_t for_ms,
                                 const std::string& step_path) {
  const std::string path = Join(step_path, "check");
  auto field = [&](absl::string_view key) { return Join(path, key); };
  if (check.name().empty()) {
    return Fail(field("name"), "missing (the check's name: its JUnit testcase)");
  }
  if (check.name().size() > kMaxCheckNameLength) {
    return Fail(field("name"), absl::StrCat("longer than ", kMaxCheckNameLength, " characters"));
  }
  for (char c : check.name()) {
    if (absl::ascii_iscntrl(c)) {
      return Fail(field("name"), "holds a control character");
    }
  }
  if (auto [it, added] = check_paths_.emplace(check.name(), path); !added) {
    return Fail(field("name"),
                absl::StrCat("\"", check.name(), "\" is already the name of ", it->second));
  }
  const bool counter = check.probe_case() == Check::kCounter;
  if (!check.from().empty() || !counter) {
    NSLAB_TRY_FIELD(CheckNode(field("from"), check.from()));
  }
  switch (check.probe_case()) {
    case Check::kTcp:
      NSLAB_TRY_FIELD(CheckHostPort(field("tcp"), check.tcp()));
      break;
    case Check::kHttp: {
      absl::string_view rest = check.http();
      if (!absl::ConsumePrefix(&rest, "http://")) {
        return Fail(
            field("http"),
            absl::StrCat("\"", check.http(), "\" must start with http:// (e.g. http://10.0.0.2/)"));
      }
      if (HasSpaceOrControl(check.http())) {
        return Fail(field("http"), absl::StrCat("\"", check.http(), "\" holds a space"));
      }
      absl::string_view authority = rest.substr(0, rest.find('/'));
      if (!authority.empty() && authority.back() != ']' && absl::StrContains(authority, ':')) {
        NSLAB_TRY_FIELD(CheckHostPort(field("http"), authority));
      } else {
        absl::ConsumePrefix(&authority, "[");
        absl::ConsumeSuffix(&authority, "]");
        NSLAB_TRY_FIELD(CheckHost(field("http"), authority, "http://10.0.0.2:8080/"));
      }
      break;
    }
    case Check::kPing:
      NSLAB_TRY_FIELD(CheckHost(field("ping"), check.ping(), "10.0.0.2"));
      break;
    case Check::kExec:
      NSLAB_TRY_FIELD(CheckArgv(field("exec"), check.exec().argv()));
      if (check.exec().exit() < 0 || check.exec().exit() > 255) {
        return Fail(field("exit"), "must be from 0 to 255");
      }
      break;
    case Check::kCounter:
      NSLAB_TRY_FIELD(CheckCounter(check, path));
      break;
    case Check::PROBE_NOT_SET:
      return Fail(path, "a check needs one probe: tcp, http, ping, exec or counter");
  }
  if (check.status() != 0 &&
      (check.probe_case() != Check::kHttp || check.status() < 100 || check.status() > 599)) {
    return Fail(field("status"), check.probe_case() == Check::kHttp
                                     ? "must be an HTTP status from 100 to 599"
                                     : "only an http check takes status:");
  }
  if (check.probe_case() != Check::kPing &&
      (check.count() != 0 || check.max_loss() != 0 || check.max_rtt_us() != 0)) {
    return Fail(field(check.count() != 0      ? "count"
                      : check.max_loss() != 0 ? "max_loss"
                                              : "max_rtt"),
                "only a ping check takes count:, max_loss:, max_rtt:");
  }
  if (check.count() > 1000) {
    return Fail(field("count"), "must be at most 1000 echoes an attempt");
  }
  if (!(check.max_loss() >= 0 && check.max_loss() <= 100)) {  // NaN fails too
    return Fail(field("max_loss"), "must be a percent from 0 to 100");
  }
  if (!nslab::v1::Expect_IsValid(check.expect())) {
    return Fail(field("expect"), "not one of ok, fail");
  }
  NSLAB_TRY_FIELD(CheckDuration(field("timeout"), check.timeout_ms()));
  NSLAB_TRY_FIELD(CheckDuration(field("within"), check.within_ms()));
  NSLAB_TRY_FIELD(CheckDuration(field("every"), check.every_ms()));
  if (check.within_ms() > 0 && check.every_ms() > 0) {
    return Fail(field("every"),
                "give within: (retry until it holds) or every: (keep holding), not both");
  }
  if (check.every_ms() > 0 && for_ms == 0) {
    return Fail(field("every"), "needs for: (how long the check keeps running, e.g. for: 2s)");
  }
  if (check.every_ms() == 0 && for_ms > 0) {
    return Fail(Join(step_path, "for"), "only a continuous check (every:) takes for:");
  }
  return std::nullopt;
}

MaybeError Validator::CheckCounter(const Check& check, const std::string& check_path) {
  const std::string path = Join(check_path, "counter");
  const auto& counter = check.counter();
  auto field = [&](absl::string_view key) { return Join(path, key); };
  switch (counter.source_case()) {
    case nslab::v1::CounterProbe::kWire: {
      const std::vector<absl::string_view> parts = absl::StrSplit(counter.wire(), ':');
      const bool shaped = (parts.size() == 3 || parts.size() == 4) &&
                          FromWord(kDirectionWords, parts[parts.size() - 2]).has_value() &&
                          parts[parts.size() - 2] != "both";
      bool empty_part = false;
      for (absl::string_view part : parts) {
        empty_part = empty_part || part.empty() || HasSpaceOrControl(part);
      }
      if (!shaped || empty_part) {
        return Fail(field("wire"),
                    absl::StrCat("\"", counter.wire(),
                                 "\" is not link:direction:counter (e.g. "
                                 "client:eth0:a-to-b:dropped_loss or wan:b-to-a:delivered)"));
      }
      break;
    }
    case nslab::v1::CounterProbe::kUstack:
    case nslab::v1::CounterProbe::kNft: {
      const bool ustack = counter.source_case() == nslab::v1::CounterProbe::kUstack;
      const std::string& name = ustack ? counter.ustack() : counter.nft();
      if (name.empty() || (ustack && HasSpaceOrControl(name))) {
        return Fail(field(ustack ? "ustack" : "nft"),
                    ustack ? "missing (a counter as `nslab ustack stats` names it, e.g. "
                             "tcp.retrans_segs)"
                           : "missing (table/chain/handle or table/chain/comment)");
      }
      if (!ustack && std::count(name.begin(), name.end(), '/') < 2) {
        return Fail(field("nft"), absl::StrCat("\"", name,
                                               "\" is not table/chain/handle or "
                                               "table/chain/comment"));
      }
      if (check.from().empty()) {
        return Fail(Join(check_path, "from"),
                    absl::StrCat("missing (the node whose ", ustack ? "ustack" : "nft",
                                 " counter it reads)"));
      }
      break;
    }
    case nslab::v1::CounterProbe::SOURCE_NOT_SET:
      return Fail(path, "a counter needs one source: wire, ustack or nft");
  }
  if (!counter.has_min() && !counter.has_max()) {
    return Fail(path, "a counter check needs min:, max: or both");
  }
  if (counter.has_min() && counter.has_max() && counter.min() > counter.max()) {
    return Fail(field("min"), absl::StrCat("min ", counter.min(), " is above max ", counter.max()));
  }
  return std::nullopt;
}

}  // namespace

bool IsUndoable(const Action& action) {
  switch (action.kind_case()) {
    case Action::kImpair:
    case Action::kClear:
    case Action::kLinkDown:
    case Action::kLinkUp:
    case Action::kPartition:
    case Action::kFirewall:
    case Action::kFlushFirewall:
    case Action::kUstackFault:
    case Action::kApply:
      return true;
    default:
      return false;
  }
}

std::optional<FieldError> FindScenarioProblem(const Scenario& scenario) {
  return Validator().Run(scenario);
}

absl::Status ValidateScenario(const Scenario& scenario) {
  if (MaybeError error = FindScenarioProblem(scenario)) {
    return error->ToStatus();
  }
  return absl::OkStatus();
}

}  // namespace nslab::scenario
