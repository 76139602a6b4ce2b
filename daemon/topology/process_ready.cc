#include "daemon/topology/process_ready.h"

#include "absl/strings/str_cat.h"

namespace nslab::topology {

using nslab::v1::ProcessReady;

std::optional<FieldError> CheckProcessReady(const ProcessReady& ready, const std::string& path) {
  auto invalid = [&](const std::string& key, std::string message) {
    return FieldError{absl::StatusCode::kInvalidArgument, absl::StrCat(path, ".", key),
                      std::move(message)};
  };
  switch (ready.condition_case()) {
    case ProcessReady::kTcp:
    case ProcessReady::kUdp: {
      const bool tcp = ready.condition_case() == ProcessReady::kTcp;
      const uint32_t port = tcp ? ready.tcp() : ready.udp();
      if (port == 0 || port > 65535) {
        return invalid(tcp ? "tcp" : "udp", "a port from 1 to 65535");
      }
      break;
    }
    case ProcessReady::kLine:
      if (ready.line().empty() || ready.line().find('\n') != std::string::npos) {
        return invalid("line", "one line of text the process prints when it is ready");
      }
      break;
    case ProcessReady::CONDITION_NOT_SET:
      if (ready.timeout_ms() != 0) {
        return FieldError{absl::StatusCode::kInvalidArgument, path,
                          "a timeout needs a condition: tcp: PORT, udp: PORT or line: TEXT"};
      }
      return std::nullopt;
  }
  if (ready.timeout_ms() > kMaxProcessReadyTimeoutMs) {
    return invalid("timeout", "at most 10m");
  }
  return std::nullopt;
}

std::string DescribeProcessReady(const ProcessReady& ready) {
  switch (ready.condition_case()) {
    case ProcessReady::kTcp:
      return absl::StrCat("tcp port ", ready.tcp(), " listening");
    case ProcessReady::kUdp:
      return absl::StrCat("udp port ", ready.udp(), " bound");
    case ProcessReady::kLine:
      return absl::StrCat("a line with \"", ready.line(), "\"");
    case ProcessReady::CONDITION_NOT_SET:
      break;
  }
  return "started";
}

uint32_t ProcessReadyTimeoutMs(const ProcessReady& ready) {
  return ready.timeout_ms() == 0 ? kDefaultProcessReadyTimeoutMs : ready.timeout_ms();
}

}  // namespace nslab::topology
