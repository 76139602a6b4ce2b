#include "daemon/topology/yaml_writer.h"
#include "daemon/impair/flow_match.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/common/units.h"
#include "daemon/topology/field_error.h"
#include "daemon/topology/text.h"
#include "daemon/topology/validate.h"
#include "daemon/topology/yaml_limits.h"
#include "daemon/topology/yaml_style.h"
#include "daemon/topology/yaml_words.h"

namespace nslab::topology {
namespace {

using nslab::v1::Endpoint;
using nslab::v1::Impairment;
using nslab::v1::Link;
using nslab::v1::Node;
using nslab::v1::Process;
using nslab::v1::Route;
using nslab::v1::Rule;
using nslab::v1::Topology;

// Prints the YAML with yaml-cpp's emitter. Values the user wrote go through Text(), which
// checks them and picks a style that reads back exactly; values nslab spells itself (numbers,
// units, enum words) go through Word().
class Writer {
 public:
  std::optional<FieldError> Write(const Topology& topology);
  std::string Result() const { return absl::StrCat(out_.c_str(), "\n"); }

 private:
  void Key(absl::string_view key) { out_ << YAML::Key << std::string(key) << YAML::Value; }
  void Word(const std::string& word) { out_ << word; }
  template <typename T>
  void Number(T value) {
    out_ << absl::StrCat(value);
  }
  // `block`: the value sits in block context, where a multi-line text may print as `|`.
  void Text(const std::string& text, const std::string& path, bool block = false);
  void TextKey(const std::string& text, const std::string& path);

  void WriteNode(const Node& node, const std::string& path);
  void WriteUstack(const Node& node, const std::string& path);
  void WriteLink(const Link& link, const std::string& path);
  void WriteEndpoint(const Endpoint& end, const std::string& side, const std::string& path);
  void WriteImpairment(const Impairment& impairment, const std::string& path);
  void WriteRoute(const Route& route, const std::string& path);
  void WriteRule(const Rule& rule, const std::string& path);
  void WriteProcess(const Process& process, const std::string& path);
  void WriteProcessReady(const nslab::v1::ProcessReady& ready, const std::string& path);
  void WriteNodeSections(const Topology& topology);

  YAML::Emitter out_;
  std::optional<FieldError> error_;  // the first text that cannot be printed
};

void Writer::Text(const std::string& text, const std::string& path, bool block) {
  if (auto problem = TextProblem(text); problem && !error_) {
    error_ = FieldError{.path = path, .message = std::string(*problem)};
  }
  if (error_) {
    out_ << "";  // keep the emitter's structure intact; the result is discarded
  } else if (block && PrintsAsLiteral(text)) {
    // Without its final line break: the block's own line end gives it back on reading.
    out_ << YAML::Literal << text.substr(0, text.size() - 1);
  } else if (NeedsDoubleQuotes(text) || ResolvesToNonString(text)) {
    out_ << YAML::DoubleQuoted << text;
  } else {
    out_ << text;  // plain, or quoted where YAML syntax needs it: the emitter decides
  }
}

void Writer::TextKey(const std::string& text, const std::string& path) {
  out_ << YAML::Key;
  Text(text, path);
  out_ << YAML::Value;
}

std::optional<FieldError> Writer::Write(const Topology& topology) {
  out_.SetIndent(2);
  out_ << YAML::BeginMap;
  if (!topology.name().empty()) {
    Key("name");
    Text(topology.name(), "name");  // a validated lab name, yet maybe "yes" or "null"
  }
  if (topology.seed() != 0) {
    Key("seed");
    Number(topology.seed());
  }
  if (!topology.labels().empty()) {
    // Sorted: a proto map has no order, and the same topology must print the same.
    std::vector<std::pair<std::string, std::string>> labels(topology.labels().begin(),
                                                            topology.labels().end());
    std::sort(labels.begin(), labels.end());
    Key("labels");
    out_ << YAML::BeginMap;
    for (const auto& [key, value] : labels) {
      TextKey(key, "labels");
      Text(value, absl::StrCat("labels.", key));
    }
    out_ << YAML::EndMap;
  }
  if (topology.ttl_seconds() != 0) {
    Key("ttl");
    Word(FormatDurationSeconds(topology.ttl_seconds()));
  }
  if (topology.routing() != nslab::v1::ROUTING_MODE_UNSPECIFIED) {
    Key("routing");
    Word(std::string(ToWord(kRoutingModeWords, topology.routing())));
  }
  Key("nodes");
  out_ << YAML::BeginMap;
  for (const Node& node : topology.nodes()) {
    WriteNode(node, absl::StrCat("nodes.", node.name()));
  }
  out_ << YAML::EndMap;
  if (!topology.links().empty()) {
    Key("links");
    out_ << YAML::BeginSeq;
    for (int i = 0; i < topology.links_size(); ++i) {
      WriteLink(topology.links(i), absl::StrCat("links[", i, "]"));
    }
    out_ << YAML::EndSeq;
  }
  WriteNodeSections(topology);
  out_ << YAML::EndMap;
  return error_;
}

void Writer::WriteNode(const Node& node, const std::string& path) {
  TextKey(node.name(), path);
  // One line unless it holds a ruleset or services, which read better on lines of their own.
  const bool block = !node.nftables().empty() || !node.services().empty();
  out_ << (block ? YAML::Block : YAML::Flow) << YAML::BeginMap;
  Key("kind");
  Word(std::string(ToWord(kNodeKindWords, node.kind())));
  if (!node.nftables_file().empty()) {
    Key("nftables_file");
    Text(node.nftables_file(), path + ".nftables_file");
  }
  if (!node.nftables().empty()) {
    Key("nftables");
    Text(node.nftables(), path + ".nftables", /*block=*/true);
  }
  if (node.has_bridge()) {
    Key("bridge");
    out_ << YAML::Flow << YAML::BeginMap;
    if (node.bridge().stp()) {
      Key("stp");
      Word("true");
    }
    if (node.bridge().ageing_seconds() != 0) {
      Key("ageing");
      Word(FormatDurationSeconds(node.bridge().ageing_seconds()));
    }
    out_ << YAML::EndMap;
  }
  WriteUstack(node, path);
  out_ << YAML::EndMap;
}

void Writer::WriteUstack(const Node& node, const std::string& path) {
  if (!node.services().empty()) {
    Key("services");
    out_ << YAML::BeginSeq;
    for (int i = 0; i < node.services_size(); ++i) {
      const nslab::v1::Service& service = node.services(i);
      out_ << YAML::Flow << YAML::BeginMap;
      if (service.udp() != 0) {
        Key("udp");
        Number(service.udp());
      }
      if (service.tcp() != 0) {
        Key("tcp");
        Number(service.tcp());
      }
      if (!service.connect().empty()) {
        Key("connect");
        Text(service.connect(), absl::StrCat(path, ".services[", i, "].connect"));
      }
      if (!service.app().empty()) {
        Key("app");
        Text(service.app(), absl::StrCat(path, ".services[", i, "].app"));
      }
      if (service.bytes() != 0) {
        Key("bytes");
        Number(service.bytes());
      }
      if (service.has_fault()) {
        Key("fault");
        const nslab::v1::ServiceFault& fault = service.fault();
        const std::string fault_path = absl::StrCat(path, ".services[", i, "].fault");
        if (!fault.mode().empty() && fault.bytes() == 0 && fault.rate() == 0) {
          Text(fault.mode(), fault_path);  // fault: close-wait
        } else {
          out_ << YAML::Flow << YAML::BeginMap;
          if (!fault.mode().empty()) {
            Key("mode");
            Text(fault.mode(), fault_path + ".mode");
          }
          if (fault.bytes() != 0) {
            Key("bytes");
            Number(fault.bytes());
          }
          if (fault.rate() != 0) {
            Key("rate");
            Number(fault.rate());
          }
          out_ << YAML::EndMap;
        }
      }
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }
  if (node.has_ring()) {
    Key("ring");
    out_ << YAML::Flow << YAML::BeginMap;
    for (const auto& [key, size] : {std::pair{"rx", node.ring().rx()}, {"tx", node.ring().tx()}}) {
      if (size != 0) {
        Key(key);
        Number(size);
      }
    }
    out_ << YAML::EndMap;
  }
  if (node.has_offloads()) {
    Key("offloads");
    out_ << YAML::Flow << YAML::BeginMap;
    for (const auto& [key, on] :
         {std::pair{"csum", node.offloads().csum()}, {"tso", node.offloads().tso()}}) {
      if (on) {
        Key(key);
        Word("true");
      }
    }
    out_ << YAML::EndMap;
  }
}

void Writer::WriteLink(const Link& link, const std::string& path) {
  const bool impaired =
      link.has_impair() || link.has_a_to_b() || link.has_b_to_a() || link.flows_size() > 0;
  out_ << (impaired ? YAML::Block : YAML::Flow) << YAML::BeginMap;
  if (!link.name().empty()) {
    Key("name");
    Text(link.name(), path + ".name");
  }
  WriteEndpoint(link.a(), "a", path);
  WriteEndpoint(link.b(), "b", path);
  for (const auto& [side, end] : {std::pair{"a", &link.a()}, {"b", &link.b()}}) {
    if (end->addresses_size() == 1) {
      Key(absl::StrCat(side, "_addr"));
      Text(end->addresses(0), absl::StrCat(path, ".", side, "_addr[0]"));
    } else if (end->addresses_size() > 1) {
      Key(absl::StrCat(side, "_addr"));
      out_ << YAML::Flow << YAML::BeginSeq;
      for (int i = 0; i < end->addresses_size(); ++i) {
        Text(end->addresses(i), absl::StrCat(path, ".", side, "_addr[", i, "]"));
      }
      out_ << YAML::EndSeq;
    }
  }
  for (const auto& [side, end] : {std::pair{"a", &link.a()}, {"b", &link.b()}}) {
    if (!end->mac().empty()) {
      Key(absl::StrCat(side, "_mac"));
      Text(end->mac(), absl::StrCat(path, ".", side, "_mac"));
    }
  }
  if (link.mtu() != 0) {
    Key("mtu");
    Number(link.mtu());
  }
  if (link.mode() != nslab::v1::LINK_MODE_UNSPECIFIED) {
    Key("mode");
    Word(std::string(ToWord(kLinkModeWords, link.mode())));
  }
  const std::pair<const char*, const Impairment*> directions[] = {
      {"impair", link.has_impair() ? &link.impair() : nullptr},
      {"a_to_b", link.has_a_to_b() ? &link.a_to_b() : nullptr},
      {"b_to_a", link.has_b_to_a() ? &link.b_to_a() : nullptr}};
  for (const auto& [key, impairment] : directions) {
    if (impairment != nullptr) {  // present, even empty: a_to_b: {} overrides impair
      Key(key);
      WriteImpairment(*impairment, absl::StrCat(path, ".", key));
    }
  }
  if (link.flows_size() > 0) {
    Key("flows");
    out_ << YAML::Block << YAML::BeginSeq;
    for (int i = 0; i < link.flows_size(); ++i) {
      const nslab::v1::FlowImpairment& flow = link.flows(i);
      const std::string flow_path = absl::StrCat(path, ".flows[", i, "]");
      // A trace's text is a block scalar, which a flow-style map cannot hold.
      const bool block = !flow.impair().trace().empty() || !flow.a_to_b().trace().empty() ||
                         !flow.b_to_a().trace().empty();
      out_ << (block ? YAML::Block : YAML::Flow) << YAML::BeginMap;
      Key("match");
      Text(impair::FlowMatchText(flow.match()), flow_path + ".match");
      const std::pair<const char*, const Impairment*> flow_directions[] = {
          {"impair", flow.has_impair() ? &flow.impair() : nullptr},
          {"a_to_b", flow.has_a_to_b() ? &flow.a_to_b() : nullptr},
          {"b_to_a", flow.has_b_to_a() ? &flow.b_to_a() : nullptr}};
      for (const auto& [key, impairment] : flow_directions) {
        if (impairment != nullptr) {
          Key(key);
          WriteImpairment(*impairment, absl::StrCat(flow_path, ".", key));
        }
      }
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }
  out_ << YAML::EndMap;
}

void Writer::WriteEndpoint(const Endpoint& end, const std::string& side, const std::string& path) {
  Key(side);
  // Validated: a defined node's name, and an interface name without ':' or blanks.
  Text(absl::StrCat(end.node(), ":", end.interface()), absl::StrCat(path, ".", side));
}

void Writer::WriteImpairment(const Impairment& impairment, const std::string& path) {
  // On one line unless it carries a trace, whose lines print as a block.
  const bool block = !impairment.trace().empty();
  out_ << (block ? YAML::Block : YAML::Flow) << YAML::BeginMap;
  for (const auto& [key, us] :
       {std::pair{"delay", impairment.delay_us()}, {"jitter", impairment.jitter_us()}}) {
    if (us != 0) {
      Key(key);
      Word(FormatDurationUs(us));
    }
  }
  if (impairment.distribution() != nslab::v1::DELAY_DISTRIBUTION_UNSPECIFIED) {
    Key("distribution");
    Word(std::string(ToWord(kDistributionWords, impairment.distribution())));
  }
  const std::pair<const char*, double> percents[] = {
      {"delay_correlation", impairment.delay_correlation()},
      {"loss", impairment.loss()},
      {"loss_correlation", impairment.loss_correlation()},
      {"duplicate", impairment.duplicate()},
      {"reorder", impairment.reorder()},
      {"corrupt", impairment.corrupt()}};
  for (const auto& [key, percent] : percents) {
    if (percent != 0) {
      Key(key);
      Word(FormatPercent(percent));
    }
  }
  if (impairment.has_gilbert_elliott()) {
    const nslab::v1::GilbertElliott& ge = impairment.gilbert_elliott();
    Key("gilbert_elliott");
    out_ << YAML::Flow << YAML::BeginMap;
    for (const auto& [key, percent] :
         {std::pair{"p", ge.p()}, {"r", ge.r()}, {"h", ge.h()}, {"k", ge.k()}}) {
      if (percent != 0) {
        Key(key);
        Word(FormatPercent(percent));
      }
    }
    out_ << YAML::EndMap;
  }
  if (impairment.reorder_gap() != 0) {
    Key("reorder_gap");
    Number(impairment.reorder_gap());
  }
  if (impairment.rate_bps() != 0) {
    Key("rate");
    Word(FormatRateBps(impairment.rate_bps()));
  }
  if (impairment.burst_bytes() != 0) {
    Key("burst");
    Word(FormatSizeBytes(impairment.burst_bytes()));
  }
  if (impairment.limit_packets() != 0) {
    Key("limit");
    Number(impairment.limit_packets());
  }
  if (!impairment.trace_file().empty()) {
    Key("trace_file");
    Text(impairment.trace_file(), path + ".trace_file");
  }
  if (!impairment.trace().empty()) {
    Key("trace");
    Text(impairment.trace(), path + ".trace", /*block=*/true);
  }
  out_ << YAML::EndMap;
}

void Writer::WriteRoute(const Route& route, const std::string& path) {
  out_ << YAML::Flow << YAML::BeginMap;
  Key("to");
  Text(route.to(), path + ".to");
  if (!route.via().empty()) {
    Key("via");
    Text(route.via(), path + ".via");
  }
  if (!route.dev().empty()) {
    Key("dev");
    Text(route.dev(), path + ".dev");
  }
  if (route.type() != nslab::v1::ROUTE_TYPE_UNSPECIFIED) {
    Key("type");
    Word(std::string(ToWord(kRouteTypeWords, route.type())));
  }
  if (route.metric() != 0) {
    Key("metric");
    Number(route.metric());
  }
  if (route.table() != 0) {
    Key("table");
    Number(route.table());
  }
  if (!route.nexthops().empty()) {
    Key("nexthops");
    out_ << YAML::Flow << YAML::BeginSeq;
    for (int h = 0; h < route.nexthops_size(); ++h) {
      const nslab::v1::Nexthop& hop = route.nexthops(h);
      const std::string hop_path = absl::StrCat(path, ".nexthops[", h, "]");
      out_ << YAML::Flow << YAML::BeginMap;
      if (!hop.via().empty()) {
        Key("via");
        Text(hop.via(), hop_path + ".via");
      }
      if (!hop.dev().empty()) {
        Key("dev");
        Text(hop.dev(), hop_path + ".dev");
      }
      if (hop.weight() != 0) {
        Key("weight");
        Number(hop.weight());
      }
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }
  out_ << YAML::EndMap;
}

void Writer::WriteRule(const Rule& rule, const std::string& path) {
  out_ << YAML::Flow << YAML::BeginMap;
  for (const auto& [key, text] :
       {std::pair{"from", &rule.from()}, {"to", &rule.to()}, {"iif", &rule.iif()}}) {
    if (!text->empty()) {
      Key(key);
      Text(*text, absl::StrCat(path, ".", key));
    }
  }
  if (rule.fwmark() != 0) {
    Key("fwmark");
    Word(absl::StrFormat("0x%x", rule.fwmark()));  // as ip rule and nft print marks
  }
  if (rule.priority() != 0) {
    Key("priority");
    Number(rule.priority());
  }
  Key("table");  // validated: never 0
  Number(rule.table());
  out_ << YAML::EndMap;
}

void Writer::WriteProcess(const Process& process, const std::string& path) {
  const bool shell =
      process.argv_size() == 3 && process.argv(0) == "/bin/sh" && process.argv(1) == "-c";
  if (shell && process.restart() == nslab::v1::RESTART_POLICY_UNSPECIFIED && !process.has_ready()) {
    Text(process.argv(2), path, /*block=*/true);  // the reader's shorthand: a bare command
    return;
  }
  const bool block = shell && PrintsAsLiteral(process.argv(2));
  out_ << (block ? YAML::Block : YAML::Flow) << YAML::BeginMap;
  if (shell) {
    Key("cmd");
    Text(process.argv(2), path + ".cmd", block);
  } else {
    Key("argv");
    out_ << YAML::Flow << YAML::BeginSeq;
    for (int i = 0; i < process.argv_size(); ++i) {
      Text(process.argv(i), absl::StrCat(path, ".argv[", i, "]"));
    }
    out_ << YAML::EndSeq;
  }
  if (process.restart() != nslab::v1::RESTART_POLICY_UNSPECIFIED) {
    Key("restart");
    Word(std::string(ToWord(kRestartWords, process.restart())));
  }
  if (process.has_ready()) {
    WriteProcessReady(process.ready(), path + ".ready");
  }
  out_ << YAML::EndMap;
}

void Writer::WriteProcessReady(const nslab::v1::ProcessReady& ready, const std::string& path) {
  Key("ready");
  out_ << YAML::Flow << YAML::BeginMap;
  switch (ready.condition_case()) {
    case nslab::v1::ProcessReady::kTcp:
      Key("tcp");
      Number(ready.tcp());
      break;
    case nslab::v1::ProcessReady::kUdp:
      Key("udp");
      Number(ready.udp());
      break;
    case nslab::v1::ProcessReady::kLine:
      Key("line");
      Text(ready.line(), path + ".line");
      break;
    case nslab::v1::ProcessReady::CONDITION_NOT_SET:
      break;
  }
  if (ready.timeout_ms() != 0) {
    Key("timeout");
    Word(FormatDurationUs(uint64_t{ready.timeout_ms()} * 1000));
  }
  out_ << YAML::EndMap;
}

void Writer::WriteNodeSections(const Topology& topology) {
  // The YAML keeps a node's routes, rules, sysctls and processes in top-level sections keyed
  // by node, in node order; a node with none is left out of the section.
  const auto section = [&](const char* key, auto has, auto write) {
    if (std::none_of(topology.nodes().begin(), topology.nodes().end(), has)) {
      return;
    }
    Key(key);
    out_ << YAML::BeginMap;
    for (const Node& node : topology.nodes()) {
      if (has(node)) {
        TextKey(node.name(), key);
        write(node, absl::StrCat(key, ".", node.name()));
      }
    }
    out_ << YAML::EndMap;
  };
  section(
      "routes", [](const Node& node) { return !node.routes().empty(); },
      [&](const Node& node, const std::string& path) {
        out_ << YAML::BeginSeq;
        for (int i = 0; i < node.routes_size(); ++i) {
          WriteRoute(node.routes(i), absl::StrCat(path, "[", i, "]"));
        }
        out_ << YAML::EndSeq;
      });
  section(
      "rules", [](const Node& node) { return !node.rules().empty(); },
      [&](const Node& node, const std::string& path) {
        out_ << YAML::BeginSeq;
        for (int i = 0; i < node.rules_size(); ++i) {
          WriteRule(node.rules(i), absl::StrCat(path, "[", i, "]"));
        }
        out_ << YAML::EndSeq;
      });
  section(
      "sysctls", [](const Node& node) { return !node.sysctls().empty(); },
      [&](const Node& node, const std::string& path) {
        std::vector<std::pair<std::string, std::string>> sysctls(node.sysctls().begin(),
                                                                 node.sysctls().end());
        std::sort(sysctls.begin(), sysctls.end());
        out_ << YAML::BeginMap;
        for (const auto& [key, value] : sysctls) {
          TextKey(key, path);
          Text(value, absl::StrCat(path, ".", key));
        }
        out_ << YAML::EndMap;
      });
  section(
      "run", [](const Node& node) { return !node.run().empty(); },
      [&](const Node& node, const std::string& path) {
        out_ << YAML::BeginSeq;
        for (int i = 0; i < node.run_size(); ++i) {
          WriteProcess(node.run(i), absl::StrCat(path, "[", i, "]"));
        }
        out_ << YAML::EndSeq;
      });
}

}  // namespace

absl::StatusOr<std::string> WriteTopologyYaml(const Topology& topology) {
  // What does not validate may not read back (a route without `to`, a rule without a table,
  // an enum value no word spells): refuse it rather than print a file that fails to load.
  if (auto error = ValidateTopology(topology)) {
    return error->ToStatus();
  }
  Writer writer;
  std::optional<FieldError> error;
  try {
    error = writer.Write(topology);
  } catch (const YAML::Exception& e) {
    return absl::InternalError(absl::StrCat("printing the topology as YAML: ", e.what()));
  }
  if (error) {
    error->message = absl::StrCat(error->message, ": it cannot be printed as YAML");
    return error->ToStatus();
  }
  std::string text = writer.Result();
  if (auto limit = CheckYamlShape(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the topology's YAML would not read back: ", limit->message,
                     limit->line > 0 ? absl::StrCat(" (line ", limit->line, ")") : ""));
  }
  return text;
}

}  // namespace nslab::topology
