#include "daemon/scenario/spec/describe.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "daemon/common/units.h"
#include "daemon/impair/flow_match.h"
#include "daemon/scenario/spec/words.h"

namespace nslab::scenario {
namespace {

using nslab::v1::Action;
using nslab::v1::Check;

std::string Duration(uint64_t ms) { return FormatDurationUs(ms * 1000); }

// argv as a person would type it: words with spaces or quotes in single quotes.
std::string CommandLine(const google::protobuf::RepeatedPtrField<std::string>& argv) {
  return absl::StrJoin(argv, " ", [](std::string* out, const std::string& word) {
    if (!word.empty() && word.find_first_of(" \t\n'\"\\$") == std::string::npos) {
      absl::StrAppend(out, word);
    } else {
      absl::StrAppend(out, "'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
    }
  });
}

std::string DirectionText(nslab::v1::Direction direction) {
  const absl::string_view word = ToWord(kDirectionWords, direction);
  return std::string(word.empty() ? "both" : word);
}

std::string EndSuffix(nslab::v1::LinkEnd end) {
  if (end == nslab::v1::LINK_END_A || end == nslab::v1::LINK_END_B) {
    return absl::StrCat(" (end ", ToWord(kLinkEndWords, end), ")");
  }
  return "";
}

std::string ImpairmentText(const nslab::v1::Impairment& impairment) {
  std::vector<std::string> parts;
  if (impairment.delay_us() != 0) {
    parts.push_back(absl::StrCat("delay ", FormatDurationUs(impairment.delay_us())));
  }
  if (impairment.jitter_us() != 0) {
    parts.push_back(absl::StrCat("jitter ", FormatDurationUs(impairment.jitter_us())));
  }
  const std::pair<const char*, double> kPercents[] = {{"loss", impairment.loss()},
                                                      {"duplicate", impairment.duplicate()},
                                                      {"reorder", impairment.reorder()},
                                                      {"corrupt", impairment.corrupt()}};
  for (const auto& [name, value] : kPercents) {
    if (value > 0 && value <= 100) {
      parts.push_back(absl::StrCat(name, " ", FormatPercent(value)));
    }
  }
  if (impairment.has_gilbert_elliott()) {
    parts.push_back("gilbert-elliott loss");
  }
  if (impairment.rate_bps() != 0) {
    parts.push_back(absl::StrCat("rate ", FormatRateBps(impairment.rate_bps())));
  }
  if (impairment.limit_packets() != 0) {
    parts.push_back(absl::StrCat("limit ", impairment.limit_packets()));
  }
  if (!impairment.trace_file().empty() || !impairment.trace().empty()) {
    parts.push_back("trace");
  }
  return parts.empty() ? "nothing" : absl::StrJoin(parts, ", ");
}

std::string ProcessText(absl::string_view verb, const nslab::v1::ProcessAction& process) {
  const std::string what = process.process().empty()
                               ? absl::StrCat(process.node(), "'s process")
                               : absl::StrCat(process.process(), " on ", process.node());
  return absl::StrCat(verb, " ", what, " (", process.signal().empty() ? "KILL" : process.signal(),
                      ")");
}

std::string PingBounds(const Check& check) {
  std::vector<std::string> bounds;
  bounds.push_back(absl::StrCat(check.count() == 0 ? 3 : check.count(), " echoes"));
  bounds.push_back(absl::StrCat(
      "loss <= ",
      FormatPercent(check.max_loss() >= 0 && check.max_loss() <= 100 ? check.max_loss() : 0)));
  if (check.max_rtt_us() != 0) {
    bounds.push_back(absl::StrCat("rtt <= ", FormatDurationUs(check.max_rtt_us())));
  }
  return absl::StrJoin(bounds, ", ");
}

std::string CounterText(const nslab::v1::CounterProbe& counter, bool fail) {
  std::string source;
  switch (counter.source_case()) {
    case nslab::v1::CounterProbe::kWire:
      source = absl::StrCat("wire ", counter.wire());
      break;
    case nslab::v1::CounterProbe::kUstack:
      source = absl::StrCat("ustack ", counter.ustack());
      break;
    case nslab::v1::CounterProbe::kNft:
      source = absl::StrCat("nft ", counter.nft());
      break;
    case nslab::v1::CounterProbe::SOURCE_NOT_SET:
      source = "counter";
      break;
  }
  if (counter.increase()) {
    absl::StrAppend(&source, "'s increase");
  }
  std::vector<std::string> bounds;
  if (counter.has_min()) {
    bounds.push_back(absl::StrCat(">= ", counter.min()));
  }
  if (counter.has_max()) {
    bounds.push_back(absl::StrCat("<= ", counter.max()));
  }
  return absl::StrCat(source, fail ? " is not " : " is ", absl::StrJoin(bounds, " and "));
}

}  // namespace

absl::string_view ActionKey(const Action& action) {
  switch (action.kind_case()) {
    case Action::kImpair:
      return "impair";
    case Action::kClear:
      return "clear";
    case Action::kLinkDown:
      return "link_down";
    case Action::kLinkUp:
      return "link_up";
    case Action::kFlap:
      return "flap";
    case Action::kPartition:
      return "partition";
    case Action::kHeal:
      return "heal";
    case Action::kFirewall:
      return "firewall";
    case Action::kFlushFirewall:
      return "flush_firewall";
    case Action::kKill:
      return "kill";
    case Action::kRestart:
      return "restart";
    case Action::kExec:
      return "exec";
    case Action::kUstackFault:
      return "ustack_fault";
    case Action::kApply:
      return "apply";
    case Action::KIND_NOT_SET:
      break;
  }
  return "action";
}

std::string DescribeAction(const Action& action) {
  switch (action.kind_case()) {
    case Action::kImpair:
      return absl::StrCat(
          "impair ", action.impair().link(), " ", DirectionText(action.impair().direction()),
          action.impair().has_match()
              ? absl::StrCat(" ", impair::FlowMatchText(action.impair().match()))
              : "",
          ": ",
          action.impair().has_match() && action.impair().impairment().ByteSizeLong() == 0
              ? "passes untouched"
              : ImpairmentText(action.impair().impairment()));
    case Action::kClear:
      return absl::StrCat("clear ", action.clear().link(), " ",
                          DirectionText(action.clear().direction()),
                          action.clear().has_match()
                              ? absl::StrCat(" ", impair::FlowMatchText(action.clear().match()))
                              : "");
    case Action::kLinkDown:
      return absl::StrCat("link down ", action.link_down().link(),
                          EndSuffix(action.link_down().end()));
    case Action::kLinkUp:
      return absl::StrCat("link up ", action.link_up().link(), EndSuffix(action.link_up().end()));
    case Action::kFlap: {
      const auto& flap = action.flap();
      return absl::StrCat("flap ", flap.link(), EndSuffix(flap.end()), " ", flap.count(),
                          flap.count() == 1 ? " time" : " times", " (down ",
                          Duration(flap.down_ms()), ", up ", Duration(flap.up_ms()), ")");
    }
    case Action::kPartition: {
      const auto& partition = action.partition();
      std::vector<std::string> groups;
      for (const auto& group : partition.groups()) {
        groups.push_back(absl::StrCat("[", absl::StrJoin(group.nodes(), ", "), "]"));
      }
      const absl::string_view mode = ToWord(kPartitionModeWords, partition.mode());
      return absl::StrCat("partition ", absl::StrJoin(groups, " | "), " (",
                          mode.empty() ? "drop" : mode, ")");
    }
    case Action::kHeal:
      return "heal every partition";
    case Action::kFirewall: {
      const auto& ruleset = action.firewall().ruleset();
      const size_t lines = std::count(ruleset.begin(), ruleset.end(), '\n') +
                           (ruleset.empty() || ruleset.back() == '\n' ? 0 : 1);
      return absl::StrCat("set ", action.firewall().node(), "'s firewall (", lines,
                          lines == 1 ? " line)" : " lines)");
    }
    case Action::kFlushFirewall:
      return absl::StrCat("flush ", action.flush_firewall().node(), "'s firewall");
    case Action::kKill:
      return ProcessText("kill", action.kill());
    case Action::kRestart:
      return ProcessText("restart", action.restart());
    case Action::kExec:
      return absl::StrCat("exec on ", action.exec().node(), ": ",
                          CommandLine(action.exec().argv()));
    case Action::kUstackFault: {
      const auto& fault = action.ustack_fault();
      std::string text =
          absl::StrCat("ustack fault ", fault.mode(), " on ", fault.node(), ":", fault.port());
      if (fault.bytes() != 0) {
        absl::StrAppend(&text, " after ", fault.bytes(), " bytes");
      }
      if (fault.rate() != 0) {
        absl::StrAppend(&text, " at ", fault.rate(), " bytes/s");
      }
      return text;
    }
    case Action::kApply: {
      const auto& topology = action.apply().topology();
      return absl::StrCat("apply a topology of ", topology.nodes_size(),
                          topology.nodes_size() == 1 ? " node and " : " nodes and ",
                          topology.links_size(), topology.links_size() == 1 ? " link" : " links");
    }
    case Action::KIND_NOT_SET:
      break;
  }
  return "no action";
}

std::string DescribeCheck(const Check& check, uint32_t step_for_ms) {
  const bool fail = check.expect() == nslab::v1::EXPECT_FAIL;
  std::string text;
  switch (check.probe_case()) {
    case Check::kTcp:
      text = absl::StrCat("tcp ", check.tcp(), fail ? " does not connect" : " connects");
      break;
    case Check::kHttp:
      text = absl::StrCat(check.http(), fail ? " does not answer " : " answers ",
                          check.status() == 0 ? "2xx" : absl::StrCat(check.status()));
      break;
    case Check::kPing:
      text = absl::StrCat("ping ", check.ping(), fail ? " does not answer (" : " answers (",
                          PingBounds(check), ")");
      break;
    case Check::kExec:
      text = absl::StrCat("`", CommandLine(check.exec().argv()), "`",
                          fail ? " does not exit " : " exits ", check.exec().exit());
      break;
    case Check::kCounter:
      text = CounterText(check.counter(), fail);
      break;
    case Check::PROBE_NOT_SET:
      text = "no probe";
      break;
  }
  if (check.within_ms() != 0) {
    absl::StrAppend(&text, " within ", Duration(check.within_ms()));
  } else if (check.every_ms() != 0) {
    absl::StrAppend(&text, " every ", Duration(check.every_ms()), " for ", Duration(step_for_ms));
  }
  return text;
}

}  // namespace nslab::scenario
