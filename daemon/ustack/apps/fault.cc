#include "daemon/ustack/apps/fault.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nslab::ustack::apps {
namespace {

struct ModeName {
  FaultMode mode;
  absl::string_view name;
  bool takes_number;
  absl::string_view number_unit;
};

constexpr ModeName kModes[] = {
    {FaultMode::kNone, "none", false, ""},
    {FaultMode::kRefuse, "refuse", false, ""},
    {FaultMode::kBlackholeSyn, "blackhole-syn", false, ""},
    {FaultMode::kNeverAccept, "never-accept", false, ""},
    {FaultMode::kCloseWait, "close-wait", false, ""},
    {FaultMode::kIgnoreFin, "ignore-fin", false, ""},
    {FaultMode::kZeroWindow, "zero-window", false, ""},
    {FaultMode::kSlowRead, "slow-read", true, "bytes per second"},
    {FaultMode::kResetAfter, "reset-after", true, "bytes"},
};

constexpr absl::string_view kKnown =
    "none (or clear), refuse, blackhole-syn, never-accept, close-wait, ignore-fin, zero-window, "
    "slow-read:BYTES_PER_SECOND, reset-after:BYTES";

absl::Status invalid(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("fault \"", text, "\": ", why));
}

}  // namespace

absl::string_view mode_name(FaultMode mode) {
  for (const ModeName& entry : kModes) {
    if (entry.mode == mode) {
      return entry.name;
    }
  }
  return "unknown";
}

absl::StatusOr<FaultSpec> parse_fault(absl::string_view text) {
  const std::size_t colon = text.find(':');
  const absl::string_view word = text.substr(0, colon);
  const bool has_number = colon != absl::string_view::npos;
  const absl::string_view number = has_number ? text.substr(colon + 1) : absl::string_view();
  const ModeName* found = nullptr;
  for (const ModeName& entry : kModes) {
    if (entry.name == word) {
      found = &entry;
    }
  }
  if (word == "clear") {
    found = &kModes[0];
  }
  if (found == nullptr) {
    return invalid(text, absl::StrCat("no fault mode \"", word, "\"; known: ", kKnown));
  }
  FaultSpec spec{found->mode, 0, 0};
  if (!found->takes_number) {
    if (has_number) {
      return invalid(text, absl::StrCat(found->name, " takes no number"));
    }
    return spec;
  }
  std::uint64_t value = 0;
  if (!has_number) {
    return invalid(text, absl::StrCat(found->name, " needs a number of ", found->number_unit,
                                      ", e.g. ", found->name, ":4096"));
  }
  if (!absl::SimpleAtoi(number, &value) || value == 0) {
    return invalid(
        text, absl::StrCat("\"", number, "\" is not a positive number of ", found->number_unit));
  }
  (found->mode == FaultMode::kSlowRead ? spec.rate : spec.bytes) = value;
  return spec;
}

tcp::FaultPolicy tcp_fault_policy(const FaultSpec& spec) {
  tcp::FaultPolicy policy;
  switch (spec.mode) {
    case FaultMode::kRefuse:
      policy.syn = tcp::FaultPolicy::SynAnswer::kReset;
      break;
    case FaultMode::kBlackholeSyn:
      policy.syn = tcp::FaultPolicy::SynAnswer::kDrop;
      break;
    case FaultMode::kIgnoreFin:
      policy.ignore_fin = true;
      break;
    case FaultMode::kZeroWindow:
      policy.zero_window = true;
      break;
    case FaultMode::kResetAfter:
      policy.reset_after_bytes = spec.bytes;
      break;
    case FaultMode::kNone:
    case FaultMode::kNeverAccept:
    case FaultMode::kCloseWait:
    case FaultMode::kSlowRead:
      break;
  }
  return policy;
}

bool is_listener_fault(FaultMode mode) {
  return mode == FaultMode::kRefuse || mode == FaultMode::kBlackholeSyn ||
         mode == FaultMode::kNeverAccept;
}

std::string to_string(const FaultSpec& spec) {
  switch (spec.mode) {
    case FaultMode::kSlowRead:
      return absl::StrCat(mode_name(spec.mode), ":", spec.rate);
    case FaultMode::kResetAfter:
      return absl::StrCat(mode_name(spec.mode), ":", spec.bytes);
    default:
      return std::string(mode_name(spec.mode));
  }
}

}  // namespace nslab::ustack::apps
