#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/diag/trace_packet.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// One address translation a hop applied to the probe: `before` is the form that arrived,
// `after` the form that left.
struct Translation {
  std::string kind;  // "dnat" (destination rewritten) or "snat" (source: snat, masquerade)
  FlowForm before;
  FlowForm after;
};

// The translations recorded in a node's connection table for the probe arriving as
// `arriving`: the entry whose original tuple is that form, and what its reply tuple says
// the node rewrote (a reply tuple is the translated flow, reversed). Destination first, as
// the kernel applies them. For ICMP the ports (echo ids) are not compared.
std::vector<Translation> TranslationsInConntrack(const nslab::v1::ConntrackResponse& table,
                                                 const std::string& protocol,
                                                 const FlowForm& arriving);

// A translation seen in a header inside the node (an nftables trace event): the probe
// carrying another destination than `arriving` (dnat, after prerouting), or an answer from
// `arriving`'s destination addressed to another source than `arriving`'s (snat or
// masquerade, seen before the node undoes it). A connection the kernel never confirmed (a
// probe dropped in the node) or that it killed (a SYN answered with RST) leaves no entry in
// the connection table: then headers are the only record.
std::optional<Translation> TranslationInHeader(const Probe& probe, const FlowForm& arriving,
                                               const Packet& seen);

// What a translation rewrote, before and after: "198.51.100.1:80" and "10.0.0.10:8080" for a
// dnat (the destination), the source for an snat; addresses alone for ICMP.
struct RewrittenEnds {
  std::string from;
  std::string to;
};
RewrittenEnds RewrittenEndsOf(const Translation& translation, const std::string& protocol);

// "dnat 198.51.100.1:80 -> 10.0.0.10:8080".
std::string TranslationText(const Translation& translation, const std::string& protocol);

}  // namespace nslab::diag
