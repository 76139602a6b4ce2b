// A FlowMatch comes from API callers (as text or as fields), and the frames it is matched
// against from namespaces nslab does not control: arbitrary bytes must give a match or an
// error, and a verdict, never a crash or a read past the end. The first byte chooses what the
// rest is:
//   '0' (and every byte = 0 mod 3): a match's text. When it parses, the match is canonical,
//       valid, prints as text that parses back to it, and compiles; the compiled matcher then
//       runs over the input as a frame.
//   '1' (= 1 mod 3): a structured match (see StructuredMatch). When it is valid, it compiles,
//       and its text parses back to its canonical form.
//   '2' (= 2 mod 3): an Ethernet frame, run through a fixed set of matchers whose verdicts
//       must agree with each other (a narrower match implies a wider one) and with
//       ClassifyFrame's reading of the IP version and the IPv4 protocol.
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/impair/flow_class.h"
#include "daemon/impair/flow_match.h"

namespace {

using nslab::impair::FlowMatcher;
using nslab::v1::FlowMatch;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "flow match: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool Same(const FlowMatch& a, const FlowMatch& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

std::span<const std::byte> AsBytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// A valid, non-empty match prints as text that reads back as its canonical form, which prints
// the same text.
void CheckTextRoundTrip(const FlowMatch& match) {
  const FlowMatch canonical = nslab::impair::CanonicalFlowMatch(match);
  const std::string text = nslab::impair::FlowMatchText(match);
  if (nslab::impair::FlowMatchText(canonical) != text) {
    Fail("the canonical form prints differently", match.ShortDebugString());
  }
  if (!nslab::impair::ValidateFlowMatch(canonical).ok()) {
    Fail("the canonical form of a valid match is invalid", match.ShortDebugString());
  }
  if (text.empty()) {
    return;  // the empty match, which has no text
  }
  auto read = nslab::impair::ParseFlowMatch(text);
  if (!read.ok()) {
    Fail("printed text does not parse", text + "\n" + read.status().ToString());
  }
  if (!Same(*read, canonical)) {
    Fail("printed text parses to another match",
         text + "\n" + read->ShortDebugString() + "\n" + canonical.ShortDebugString());
  }
}

void CheckText(std::string_view text, std::span<const std::byte> frame) {
  auto match = nslab::impair::ParseFlowMatch(text);
  if (!match.ok()) {
    return;
  }
  if (!nslab::impair::ValidateFlowMatch(*match).ok()) {
    Fail("a parsed match is invalid", match->ShortDebugString());
  }
  if (!Same(nslab::impair::CanonicalFlowMatch(*match), *match)) {
    Fail("a parsed match is not canonical", match->ShortDebugString());
  }
  CheckTextRoundTrip(*match);
  auto matcher = FlowMatcher::Compile(*match);
  if (!matcher.ok()) {
    Fail("a parsed match does not compile", matcher.status().ToString());
  }
  (void)matcher->Matches(frame);
}

// Bytes 0: which port ranges are present (bit 0 source, bit 1 destination); 1..16: source
// first, source last, destination first, destination last, 32 bits little-endian each; the
// rest: protocol, source and destination separated by newlines.
void CheckStructured(std::span<const uint8_t> input) {
  constexpr size_t kHeader = 17;
  if (input.size() < kHeader) {
    return;
  }
  uint32_t ports[4];
  std::memcpy(ports, input.data() + 1, sizeof(ports));
  FlowMatch match;
  if ((input[0] & 1) != 0) {
    match.mutable_source_port()->set_first(ports[0]);
    match.mutable_source_port()->set_last(ports[1]);
  }
  if ((input[0] & 2) != 0) {
    match.mutable_destination_port()->set_first(ports[2]);
    match.mutable_destination_port()->set_last(ports[3]);
  }
  std::string_view rest(reinterpret_cast<const char*>(input.data() + kHeader),
                        input.size() - kHeader);
  std::string* fields[] = {match.mutable_protocol(), match.mutable_source(),
                           match.mutable_destination()};
  for (std::string* field : fields) {
    const size_t end = rest.find('\n');
    field->assign(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  const bool valid = nslab::impair::ValidateFlowMatch(match).ok();
  if (FlowMatcher::Compile(match).ok() != valid) {
    Fail("Compile and ValidateFlowMatch disagree", match.ShortDebugString());
  }
  (void)nslab::impair::FlowMatchKey(match);  // also for invalid matches: must not crash
  if (valid) {
    CheckTextRoundTrip(match);
  }
}

FlowMatcher MustCompile(std::string_view text) {
  auto match = nslab::impair::ParseFlowMatch(text);
  if (!match.ok()) {
    Fail("a fixed match does not parse", match.status().ToString());
  }
  auto matcher = FlowMatcher::Compile(*match);
  if (!matcher.ok()) {
    Fail("a fixed match does not compile", matcher.status().ToString());
  }
  return *std::move(matcher);
}

struct FixedMatchers {
  FlowMatcher everything = *FlowMatcher::Compile(FlowMatch());
  FlowMatcher any_ipv4 = MustCompile("ip saddr 0.0.0.0/0");
  FlowMatcher any_ipv6 = MustCompile("ip6 saddr ::/0");
  FlowMatcher tcp = MustCompile("tcp");
  FlowMatcher udp = MustCompile("udp");
  FlowMatcher sctp = MustCompile("sctp");
  FlowMatcher icmp = MustCompile("icmp");
  FlowMatcher icmpv6 = MustCompile("icmpv6");
  FlowMatcher tcp_80 = MustCompile("tcp dport 80");
  FlowMatcher tcp_80_from_range = MustCompile("tcp sport 1000-2000 dport 80");
  FlowMatcher udp_53 = MustCompile("udp dport 53");
  FlowMatcher udp_any_port = MustCompile("udp dport 1-65535");
  FlowMatcher sctp_any_port = MustCompile("sctp sport 1-65535");
  FlowMatcher net8 = MustCompile("ip saddr 10.0.0.0/8");
  FlowMatcher net24_dns = MustCompile("ip saddr 10.0.0.0/24 udp dport 53");
  FlowMatcher v6_16 = MustCompile("ip6 daddr fd00::/16");
  FlowMatcher v6_64_https = MustCompile("ip6 daddr fd00::/64 tcp dport 443");
};

void Implies(bool narrow, bool wide, const char* what) {
  if (narrow && !wide) {
    Fail("a narrower match held where a wider one did not", what);
  }
}

void CheckFrame(std::span<const std::byte> frame) {
  static const FixedMatchers m;
  if (!m.everything.Matches(frame)) {
    Fail("the empty match did not hold", "");
  }
  const bool ipv4 = m.any_ipv4.Matches(frame);
  const bool ipv6 = m.any_ipv6.Matches(frame);
  const bool tcp = m.tcp.Matches(frame);
  const bool udp = m.udp.Matches(frame);
  const bool sctp = m.sctp.Matches(frame);
  const bool icmp = m.icmp.Matches(frame);
  const bool icmpv6 = m.icmpv6.Matches(frame);
  if (ipv4 && ipv6) {
    Fail("a frame is both IPv4 and IPv6", "");
  }
  if (tcp + udp + sctp + icmp + icmpv6 > 1) {
    Fail("a frame is of two protocols", "");
  }
  Implies(tcp, ipv4 || ipv6, "tcp => ip or ip6");
  Implies(udp, ipv4 || ipv6, "udp => ip or ip6");
  Implies(sctp, ipv4 || ipv6, "sctp => ip or ip6");
  Implies(icmp, ipv4, "icmp => ip");
  Implies(icmpv6, ipv6, "icmpv6 => ip6");
  const bool tcp_80 = m.tcp_80.Matches(frame);
  Implies(tcp_80, tcp, "tcp dport 80 => tcp");
  Implies(m.tcp_80_from_range.Matches(frame), tcp_80, "tcp sport 1000-2000 dport 80 => dport 80");
  const bool udp_any_port = m.udp_any_port.Matches(frame);
  Implies(udp_any_port, udp, "udp dport 1-65535 => udp");
  Implies(m.udp_53.Matches(frame), udp_any_port, "udp dport 53 => udp dport 1-65535");
  Implies(m.sctp_any_port.Matches(frame), sctp, "sctp sport 1-65535 => sctp");
  const bool net8 = m.net8.Matches(frame);
  Implies(net8, ipv4, "ip saddr 10.0.0.0/8 => ip");
  Implies(m.net24_dns.Matches(frame), net8 && udp, "ip saddr 10.0.0.0/24 udp ... => /8, udp");
  const bool v6_16 = m.v6_16.Matches(frame);
  Implies(v6_16, ipv6, "ip6 daddr fd00::/16 => ip6");
  Implies(m.v6_64_https.Matches(frame), v6_16 && !tcp_80 && tcp,
          "ip6 daddr fd00::/64 tcp dport 443 => /16, tcp, not dport 80");

  // flow_class reads the same headers by its own code: it must see the same IP version, and
  // for IPv4 the same protocol.
  const nslab::impair::FlowClass flow = nslab::impair::ClassifyFrame(frame);
  if ((flow.ip_version == 4) != ipv4 || (flow.ip_version == 6) != ipv6) {
    Fail("ClassifyFrame sees another IP version", "");
  }
  if (ipv4 && ((flow.protocol == 6) != tcp || (flow.protocol == 17) != udp ||
               (flow.protocol == 132) != sctp || (flow.protocol == 1) != icmp)) {
    Fail("ClassifyFrame sees another IPv4 protocol", "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckText(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()),
                AsBytes(rest.data(), rest.size()));
      break;
    case 1:
      CheckStructured(rest);
      break;
    default:
      CheckFrame(AsBytes(rest.data(), rest.size()));
      break;
  }
  return 0;
}
