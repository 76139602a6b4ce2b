// The topology reader's sections that stand apart from the walk over nodes and links:
// impairments, routes, rules and processes.
#include <yaml-cpp/yaml.h>

#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/units.h"
#include "daemon/topology/process_ready.h"
#include "daemon/topology/text.h"
#include "daemon/topology/yaml_reader_internal.h"

namespace nslab::topology::internal {

MaybeError Reader::ReadImpairment(const YAML::Node& node, const std::string& path,
                                  Impairment* out) {
  NSLAB_TRY_FIELD(
      ExpectMap(node, path,
                {"delay", "jitter", "delay_correlation", "distribution", "loss", "loss_correlation",
                 "gilbert_elliott", "duplicate", "reorder", "reorder_gap", "corrupt", "rate",
                 "burst", "limit", "trace_file", "trace"}));
  auto field = [&](absl::string_view key) { return JoinPath(path, key); };
  for (const auto& [key, set] : {std::pair{"delay", &Impairment::set_delay_us},
                                 std::pair{"jitter", &Impairment::set_jitter_us}}) {
    if (node[key]) {
      uint64_t us = 0;
      NSLAB_TRY_FIELD(Unit(node[key], field(key), ParseDurationUs, &us));
      if (us > UINT32_MAX) {
        return Fail(node[key], field(key), "must be at most 4294s");
      }
      (out->*set)(static_cast<uint32_t>(us));
    }
  }
  struct PercentField {
    const char* key;
    void (Impairment::*set)(double);
  };
  static constexpr PercentField kPercents[] = {
      {"delay_correlation", &Impairment::set_delay_correlation},
      {"loss", &Impairment::set_loss},
      {"loss_correlation", &Impairment::set_loss_correlation},
      {"duplicate", &Impairment::set_duplicate},
      {"reorder", &Impairment::set_reorder},
      {"corrupt", &Impairment::set_corrupt}};
  for (const PercentField& percent : kPercents) {
    if (node[percent.key]) {
      double value = 0;
      NSLAB_TRY_FIELD(Unit(node[percent.key], field(percent.key), ParsePercent, &value));
      (out->*percent.set)(value);
    }
  }
  if (node["distribution"]) {
    NSLAB_TRY_FIELD(Choice(node["distribution"], field("distribution"), kDistributionWords, out,
                           &Impairment::set_distribution));
  }
  if (const YAML::Node ge = node["gilbert_elliott"]) {
    const std::string ge_path = field("gilbert_elliott");
    NSLAB_TRY_FIELD(ExpectMap(ge, ge_path, {"p", "r", "h", "k"}));
    auto* model = out->mutable_gilbert_elliott();
    const std::pair<const char*, void (nslab::v1::GilbertElliott::*)(double)> kKeys[] = {
        {"p", &nslab::v1::GilbertElliott::set_p},
        {"r", &nslab::v1::GilbertElliott::set_r},
        {"h", &nslab::v1::GilbertElliott::set_h},
        {"k", &nslab::v1::GilbertElliott::set_k}};
    for (const auto& [key, set] : kKeys) {
      if (ge[key]) {
        double value = 0;
        NSLAB_TRY_FIELD(Unit(ge[key], JoinPath(ge_path, key), ParsePercent, &value));
        (model->*set)(value);
      }
    }
  }
  if (node["reorder_gap"]) {
    uint64_t gap = 0;
    NSLAB_TRY_FIELD(Uint(node["reorder_gap"], field("reorder_gap"), UINT32_MAX, &gap));
    out->set_reorder_gap(static_cast<uint32_t>(gap));
  }
  if (node["rate"]) {
    uint64_t bps = 0;
    NSLAB_TRY_FIELD(Unit(node["rate"], field("rate"), ParseRateBps, &bps));
    out->set_rate_bps(bps);
  }
  if (node["burst"]) {
    uint64_t bytes = 0;
    NSLAB_TRY_FIELD(Unit(node["burst"], field("burst"), ParseSizeBytes, &bytes));
    if (bytes > UINT32_MAX) {
      return Fail(node["burst"], field("burst"), "burst is larger than 4 GiB");
    }
    out->set_burst_bytes(static_cast<uint32_t>(bytes));
  }
  if (node["limit"]) {
    uint64_t limit = 0;
    NSLAB_TRY_FIELD(Uint(node["limit"], field("limit"), UINT32_MAX, &limit));
    out->set_limit_packets(static_cast<uint32_t>(limit));
  }
  if (node["trace_file"]) {
    NSLAB_TRY_FIELD(String(node["trace_file"], field("trace_file"), out->mutable_trace_file()));
  }
  if (node["trace"]) {
    NSLAB_TRY_FIELD(String(node["trace"], field("trace"), out->mutable_trace()));
  }
  return std::nullopt;
}

MaybeError Reader::ReadRoute(const YAML::Node& node, const std::string& path, Route* out) {
  NSLAB_TRY_FIELD(
      ExpectMap(node, path, {"to", "via", "dev", "type", "metric", "table", "nexthops"}));
  if (!node["to"]) {
    return Fail(node, JoinPath(path, "to"), "missing (a CIDR or default)");
  }
  NSLAB_TRY_FIELD(String(node["to"], JoinPath(path, "to"), out->mutable_to()));
  if (node["via"]) {
    NSLAB_TRY_FIELD(String(node["via"], JoinPath(path, "via"), out->mutable_via()));
  }
  if (node["dev"]) {
    NSLAB_TRY_FIELD(String(node["dev"], JoinPath(path, "dev"), out->mutable_dev()));
  }
  if (node["type"]) {
    NSLAB_TRY_FIELD(
        Choice(node["type"], JoinPath(path, "type"), kRouteTypeWords, out, &Route::set_type));
  }
  if (node["metric"]) {
    uint64_t metric = 0;
    NSLAB_TRY_FIELD(Uint(node["metric"], JoinPath(path, "metric"), UINT32_MAX, &metric));
    out->set_metric(static_cast<uint32_t>(metric));
  }
  if (node["table"]) {
    uint64_t table = 0;
    NSLAB_TRY_FIELD(Uint(node["table"], JoinPath(path, "table"), UINT32_MAX, &table));
    out->set_table(static_cast<uint32_t>(table));
  }
  if (const YAML::Node hops = node["nexthops"]) {
    const std::string hops_path = JoinPath(path, "nexthops");
    NSLAB_TRY_FIELD(ExpectSequence(hops, hops_path));
    for (size_t i = 0; i < hops.size(); ++i) {
      const std::string hop_path = IndexPath(hops_path, i);
      NSLAB_TRY_FIELD(ExpectMap(hops[i], hop_path, {"via", "dev", "weight"}));
      auto* hop = out->add_nexthops();
      if (hops[i]["via"]) {
        NSLAB_TRY_FIELD(String(hops[i]["via"], JoinPath(hop_path, "via"), hop->mutable_via()));
      }
      if (hops[i]["dev"]) {
        NSLAB_TRY_FIELD(String(hops[i]["dev"], JoinPath(hop_path, "dev"), hop->mutable_dev()));
      }
      if (hops[i]["weight"]) {
        uint64_t weight = 0;
        NSLAB_TRY_FIELD(Uint(hops[i]["weight"], JoinPath(hop_path, "weight"), 256, &weight));
        hop->set_weight(static_cast<uint32_t>(weight));
      }
    }
  }
  return std::nullopt;
}

MaybeError Reader::ReadRule(const YAML::Node& node, const std::string& path, Rule* out) {
  NSLAB_TRY_FIELD(ExpectMap(node, path, {"from", "to", "fwmark", "iif", "priority", "table"}));
  if (node["from"]) {
    NSLAB_TRY_FIELD(String(node["from"], JoinPath(path, "from"), out->mutable_from()));
  }
  if (node["to"]) {
    NSLAB_TRY_FIELD(String(node["to"], JoinPath(path, "to"), out->mutable_to()));
  }
  if (node["iif"]) {
    NSLAB_TRY_FIELD(String(node["iif"], JoinPath(path, "iif"), out->mutable_iif()));
  }
  const std::pair<const char*, void (Rule::*)(uint32_t)> kNumbers[] = {
      {"fwmark", &Rule::set_fwmark},
      {"priority", &Rule::set_priority},
      {"table", &Rule::set_table}};
  for (const auto& [key, set] : kNumbers) {
    if (node[key]) {
      uint64_t value = 0;
      std::string text = node[key].IsScalar() ? node[key].Scalar() : "";
      // fwmark is often written in hex.
      if (text.starts_with("0x") && absl::SimpleHexAtoi(text.substr(2), &value) &&
          value <= UINT32_MAX) {
        (out->*set)(static_cast<uint32_t>(value));
        continue;
      }
      NSLAB_TRY_FIELD(Uint(node[key], JoinPath(path, key), UINT32_MAX, &value));
      (out->*set)(static_cast<uint32_t>(value));
    }
  }
  if (!node["table"]) {
    return Fail(node, JoinPath(path, "table"), "missing (the routing table the rule selects)");
  }
  return std::nullopt;
}

MaybeError Reader::ReadProcess(const YAML::Node& node, const std::string& path,
                               nslab::v1::Process* out) {
  auto add_shell = [&](const std::string& command) {
    // A string runs through the shell, so pipes and redirections work as typed.
    out->add_argv("/bin/sh");
    out->add_argv("-c");
    out->add_argv(command);
  };
  if (node.IsScalar()) {
    std::string command;
    NSLAB_TRY_FIELD(String(node, path, &command));
    add_shell(command);
    return std::nullopt;
  }
  NSLAB_TRY_FIELD(ExpectMap(node, path, {"cmd", "argv", "restart", "ready"}));
  if (node["cmd"] && node["argv"]) {
    return Fail(node, path, "give either cmd or argv, not both");
  }
  if (node["cmd"]) {
    std::string command;
    NSLAB_TRY_FIELD(String(node["cmd"], JoinPath(path, "cmd"), &command));
    add_shell(command);
  } else if (node["argv"]) {
    NSLAB_TRY_FIELD(StringList(node["argv"], JoinPath(path, "argv"), out->mutable_argv()));
  } else {
    return Fail(node, path, "missing cmd or argv");
  }
  if (node["restart"]) {
    NSLAB_TRY_FIELD(Choice(node["restart"], JoinPath(path, "restart"), kRestartWords, out,
                           &nslab::v1::Process::set_restart));
  }
  if (node["ready"]) {
    NSLAB_TRY_FIELD(ReadProcessReady(node["ready"], JoinPath(path, "ready"), out->mutable_ready()));
  }
  return std::nullopt;
}

MaybeError Reader::ReadProcessReady(const YAML::Node& node, const std::string& path,
                                    nslab::v1::ProcessReady* out) {
  NSLAB_TRY_FIELD(ExpectMap(node, path, {"tcp", "udp", "line", "timeout"}));
  const int conditions = (node["tcp"] ? 1 : 0) + (node["udp"] ? 1 : 0) + (node["line"] ? 1 : 0);
  if (conditions != 1) {
    return Fail(node, path,
                "give exactly one of tcp: PORT, udp: PORT or line: TEXT (what the process does "
                "once it can be used)");
  }
  for (const char* key : {"tcp", "udp"}) {
    if (!node[key]) {
      continue;
    }
    uint64_t port = 0;
    NSLAB_TRY_FIELD(Uint(node[key], JoinPath(path, key), 65535, &port));
    if (port == 0) {
      return Fail(node[key], JoinPath(path, key), "a port from 1 to 65535");
    }
    std::string_view(key) == "tcp" ? out->set_tcp(port) : out->set_udp(port);
  }
  if (node["line"]) {
    NSLAB_TRY_FIELD(String(node["line"], JoinPath(path, "line"), out->mutable_line()));
    if (out->line().empty()) {
      return Fail(node["line"], JoinPath(path, "line"), "must not be empty (every output has it)");
    }
  }
  if (node["timeout"]) {
    uint64_t us = 0;
    NSLAB_TRY_FIELD(Unit(node["timeout"], JoinPath(path, "timeout"), ParseDurationUs, &us));
    if (us < 1000 || us > kMaxProcessReadyTimeoutMs * 1000) {
      return Fail(node["timeout"], JoinPath(path, "timeout"), "from 1ms to 10m");
    }
    out->set_timeout_ms(static_cast<uint32_t>(us / 1000));
  }
  return std::nullopt;
}

}  // namespace nslab::topology::internal
