#include "daemon/diag/trace_nat.h"

#include <netinet/in.h>

#include "absl/strings/str_cat.h"

namespace nslab::diag {
namespace {

std::string Endpoint(const std::string& address, uint16_t port, bool ports) {
  return ports ? absl::StrCat(address, ":", port) : address;
}

}  // namespace

std::vector<Translation> TranslationsInConntrack(const nslab::v1::ConntrackResponse& table,
                                                 const std::string& protocol,
                                                 const FlowForm& arriving) {
  const bool ports = protocol != "icmp";
  for (const auto& entry : table.entries()) {
    const auto& original = entry.original();
    if (entry.protocol() != protocol || original.source() != arriving.src ||
        original.destination() != arriving.dst) {
      continue;
    }
    if (ports && (original.source_port() != arriving.sport ||
                  original.destination_port() != arriving.dport)) {
      continue;
    }
    const auto& reply = entry.reply();
    std::vector<Translation> found;
    FlowForm form = arriving;
    const bool dnat = reply.source() != original.destination() ||
                      (ports && reply.source_port() != original.destination_port());
    if (dnat) {
      FlowForm after = form;
      after.dst = reply.source();
      if (ports) {
        after.dport = static_cast<uint16_t>(reply.source_port());
      }
      found.push_back({"dnat", form, after});
      form = after;
    }
    const bool snat = reply.destination() != original.source() ||
                      (ports && reply.destination_port() != original.source_port());
    if (snat) {
      FlowForm after = form;
      after.src = reply.destination();
      if (ports) {
        after.sport = static_cast<uint16_t>(reply.destination_port());
      }
      found.push_back({"snat", form, after});
    }
    return found;
  }
  return {};
}

std::optional<Translation> TranslationInHeader(const Probe& probe, const FlowForm& arriving,
                                               const Packet& seen) {
  if (!seen.ok) {
    return std::nullopt;
  }
  const bool icmp = probe.protocol == "icmp";
  if (seen.protocol != IpProtocolOf(probe)) {
    return std::nullopt;
  }
  // Ports as FlowForm keeps them: the echo id on both sides for ICMP.
  const uint16_t sport = icmp ? seen.echo_id : seen.sport;
  const uint16_t dport = icmp ? seen.echo_id : seen.dport;
  if (seen.src == arriving.src && sport == arriving.sport &&
      (seen.dst != arriving.dst || dport != arriving.dport)) {
    FlowForm after = arriving;
    after.dst = seen.dst;
    after.dport = dport;
    return Translation{"dnat", arriving, after};
  }
  if (seen.src == arriving.dst && sport == arriving.dport && seen.dst != arriving.src) {
    FlowForm after = arriving;
    after.src = seen.dst;
    after.sport = dport;
    return Translation{"snat", arriving, after};
  }
  return std::nullopt;
}

RewrittenEnds RewrittenEndsOf(const Translation& translation, const std::string& protocol) {
  const bool ports = protocol != "icmp";
  const bool dnat = translation.kind == "dnat";
  const FlowForm& a = translation.before;
  const FlowForm& b = translation.after;
  return {dnat ? Endpoint(a.dst, a.dport, ports) : Endpoint(a.src, a.sport, ports),
          dnat ? Endpoint(b.dst, b.dport, ports) : Endpoint(b.src, b.sport, ports)};
}

std::string TranslationText(const Translation& translation, const std::string& protocol) {
  const RewrittenEnds ends = RewrittenEndsOf(translation, protocol);
  return absl::StrCat(translation.kind, " ", ends.from, " -> ", ends.to);
}

}  // namespace nslab::diag
