#include "daemon/diag/trace_follow.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/diag/conntrack.h"

namespace nslab::diag {
namespace {

using nslab::v1::TraceHop;

// "rule 3 in ip nat prerouting: iifname "wan0" tcp dport 80 dnat to 10.0.0.10:8080": the
// first traced rule of the node that does a translation of `kind`.
std::string TranslatingRule(const NodeEvents& node, const std::string& kind) {
  const std::vector<std::string> words = kind == "dnat"
                                             ? std::vector<std::string>{"dnat", "redirect"}
                                             : std::vector<std::string>{"snat", "masquerade"};
  for (const auto& event : node.events) {
    auto text = node.rule_text.find(TableKey(event.family, event.table, event.handle));
    if (text == node.rule_text.end()) {
      continue;
    }
    for (const auto& word : words) {
      if (absl::StrContains(text->second, word)) {
        return absl::StrCat("rule ", event.handle, " in ", event.family, " ", event.table, " ",
                            event.chain, ": ", text->second);
      }
    }
  }
  return "";
}

}  // namespace

std::string TableKey(const std::string& family, const std::string& table, uint64_t handle) {
  return absl::StrCat(family, " ", table, " ", handle);
}

absl::StatusOr<std::vector<FlowForm>> FollowTranslations(
    NodeNamespaces& namespaces, const LabMap& map, const Probe& probe,
    const std::map<std::string, NodeEvents>& events, std::vector<TraceHop>* hops) {
  std::vector<FlowForm> forms = {
      FlowForm{(*hops)[0].route().preferred_source(), probe.destination, probe.source_port,
               probe.protocol == "icmp" ? probe.source_port : probe.port}};
  for (size_t i = 0; i < hops->size(); ++i) {
    const std::string node = (*hops)[i].node();
    auto fd = namespaces.Get(node);
    if (!fd.ok()) {
      return fd.status();
    }
    const FlowForm arriving = forms.back();
    std::vector<Translation> found;
    if (auto table = ListConntrack(*fd); table.ok()) {
      found = TranslationsInConntrack(*table, probe.protocol, arriving);
    }
    const auto node_events = events.find(node);
    if (found.empty() && node_events != events.end()) {
      std::optional<Translation> dnat, snat;
      for (const auto& event : node_events->second.events) {
        auto seen = TranslationInHeader(probe, arriving,
                                        ParseHeaders(event.network_header, event.transport_header));
        if (seen.has_value()) {
          (seen->kind == "dnat" ? dnat : snat) = *seen;
        }
      }
      if (dnat.has_value()) {
        found.push_back(*dnat);
      }
      if (snat.has_value()) {
        snat->before = found.empty() ? arriving : found.back().after;
        snat->after.dst = snat->before.dst;
        snat->after.dport = snat->before.dport;
        found.push_back(*snat);
      }
    }
    if (found.empty()) {
      continue;
    }
    const bool dnat = found.front().kind == "dnat";
    if (dnat) {
      // The route decision at this hop was for the old destination: walk on from here.
      const std::string input = (*hops)[i].input_interface();
      std::vector<TraceHop> rest;
      if (auto walked = Walk(namespaces, map, node, input, found.front().after,
                             kMaxTraceHops - static_cast<int>(i), &rest);
          !walked.ok()) {
        return walked;
      }
      hops->erase(hops->begin() + static_cast<std::ptrdiff_t>(i), hops->end());
      hops->insert(hops->end(), rest.begin(), rest.end());
    }
    if (!dnat && i + 1 < hops->size()) {
      // The hops after a source rewrite decide for the new source (policy routing may care).
      std::vector<TraceHop> rest;
      const TraceHop& next = (*hops)[i + 1];
      if (auto walked = Walk(namespaces, map, next.node(), next.input_interface(),
                             found.back().after, kMaxTraceHops - static_cast<int>(i) - 1, &rest);
          !walked.ok()) {
        return walked;
      }
      hops->erase(hops->begin() + static_cast<std::ptrdiff_t>(i) + 1, hops->end());
      hops->insert(hops->end(), rest.begin(), rest.end());
    }
    for (const auto& translation : found) {
      auto* out = (*hops)[i].add_translations();
      out->set_kind(translation.kind);
      RewrittenEnds ends = RewrittenEndsOf(translation, probe.protocol);
      out->set_from(std::move(ends.from));
      out->set_to(std::move(ends.to));
      if (node_events != events.end()) {
        out->set_rule(TranslatingRule(node_events->second, translation.kind));
      }
      forms.push_back(translation.after);
    }
  }
  return forms;
}

std::string AnsweredBy(const Probe& probe, const std::vector<FlowForm>& forms) {
  const FlowForm& last = forms.back();
  return probe.protocol == "icmp" ? last.dst : absl::StrCat(last.dst, ":", last.dport);
}

std::string TranslatedNote(const Probe& probe, const std::vector<TraceHop>& hops,
                           const std::vector<FlowForm>& forms) {
  std::vector<std::string> where;
  for (const auto& hop : hops) {
    for (const auto& translation : hop.translations()) {
      where.push_back(absl::StrCat(translation.kind(), " at ", hop.node()));
    }
  }
  if (where.empty()) {
    return "";
  }
  const FlowForm& first = forms.front();
  return absl::StrCat(
      " (the probe to ",
      probe.protocol == "icmp" ? first.dst : absl::StrCat(first.dst, ":", first.dport), ", after ",
      absl::StrJoin(where, ", "), ")");
}

}  // namespace nslab::diag
