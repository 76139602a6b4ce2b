#include "daemon/impair/flow_match.h"

#include <google/protobuf/util/message_differencer.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

using nslab::v1::FlowMatch;
using ::testing::HasSubstr;

// ----- Helpers

bool SameMatch(const FlowMatch& a, const FlowMatch& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

FlowMatch Parsed(std::string_view text) {
  absl::StatusOr<FlowMatch> match = ParseFlowMatch(text);
  EXPECT_TRUE(match.ok()) << text << ": " << match.status();
  return match.ok() ? *match : FlowMatch();
}

std::string ParseError(std::string_view text) {
  absl::StatusOr<FlowMatch> match = ParseFlowMatch(text);
  if (match.ok()) {
    ADD_FAILURE() << "\"" << text << "\" parsed as " << match->ShortDebugString();
    return "";
  }
  EXPECT_EQ(match.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(match.status().message());
}

std::string Problem(const FlowMatch& match) {
  const absl::Status status = ValidateFlowMatch(match);
  if (status.ok()) {
    return "";
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

struct Fields {
  std::string protocol = "";
  std::string source = "";
  std::string destination = "";
  uint32_t source_first = 0;  // 0 with source_last 0: source_port unset
  uint32_t source_last = 0;
  uint32_t destination_first = 0;
  uint32_t destination_last = 0;
};

FlowMatch Make(const Fields& fields) {
  FlowMatch match;
  match.set_protocol(fields.protocol);
  match.set_source(fields.source);
  match.set_destination(fields.destination);
  if (fields.source_first != 0 || fields.source_last != 0) {
    match.mutable_source_port()->set_first(fields.source_first);
    match.mutable_source_port()->set_last(fields.source_last);
  }
  if (fields.destination_first != 0 || fields.destination_last != 0) {
    match.mutable_destination_port()->set_first(fields.destination_first);
    match.mutable_destination_port()->set_last(fields.destination_last);
  }
  return match;
}

FlowMatcher Compiled(std::string_view text) {
  absl::StatusOr<FlowMatcher> matcher = FlowMatcher::Compile(Parsed(text));
  EXPECT_TRUE(matcher.ok()) << text << ": " << matcher.status();
  return *std::move(matcher);
}

// ----- Frames

using Frame = std::vector<std::byte>;
using V4 = std::array<uint8_t, 4>;
using V6 = std::array<uint8_t, 16>;

void Append(Frame& frame, std::initializer_list<int> bytes) {
  for (int byte : bytes) {
    frame.push_back(std::byte{static_cast<uint8_t>(byte)});
  }
}

template <size_t N>
void Append(Frame& frame, const std::array<uint8_t, N>& bytes) {
  for (uint8_t byte : bytes) {
    frame.push_back(std::byte{byte});
  }
}

// MACs, then the tags' TPIDs (each with VID 5), then the ethertype.
Frame Ethernet(uint16_t ethertype, std::initializer_list<int> tag_tpids = {}) {
  Frame frame;
  Append(frame, {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
  for (int tpid : tag_tpids) {
    Append(frame, {tpid >> 8, tpid & 0xff, 0x00, 0x05});
  }
  Append(frame, {ethertype >> 8, ethertype & 0xff});
  return frame;
}

// Source port, destination port, then 4 more bytes (the rest of a UDP header; TCP's sequence).
std::vector<int> Ports(int source, int destination) {
  return {source >> 8, source & 0xff, destination >> 8, destination & 0xff, 0, 8, 0, 0};
}

struct Ipv4Frame {
  uint8_t protocol = 6;
  V4 source = {10, 0, 0, 1};
  V4 destination = {10, 0, 0, 2};
  std::vector<int> transport = Ports(40000, 80);
  uint16_t fragment = 0;  // flags and offset
  std::initializer_list<int> tags = {};
  int options_words = 0;  // 4-byte words of IPv4 options
  int total_length = -1;  // -1: header and transport
};

Frame Ipv4(const Ipv4Frame& spec) {
  Frame frame = Ethernet(0x0800, spec.tags);
  const int header = 20 + 4 * spec.options_words;
  const int total =
      spec.total_length >= 0 ? spec.total_length : header + static_cast<int>(spec.transport.size());
  Append(frame, {0x45 + spec.options_words, 0, total >> 8, total & 0xff, 0, 0, spec.fragment >> 8,
                 spec.fragment & 0xff, 64, spec.protocol, 0, 0});
  Append(frame, spec.source);
  Append(frame, spec.destination);
  for (int i = 0; i < 4 * spec.options_words; ++i) {
    Append(frame, {1});  // NOP options
  }
  for (int byte : spec.transport) {
    Append(frame, {byte});
  }
  return frame;
}

constexpr V6 kV6Source = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr V6 kV6Destination = {0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2};

// fd00::1 -> fd00:0:0:1::2, next header `next`, then `rest` (extension headers, transport).
Frame Ipv6(uint8_t next, const std::vector<int>& rest, const V6& source = kV6Source,
           const V6& destination = kV6Destination) {
  Frame frame = Ethernet(0x86dd);
  const int payload = static_cast<int>(rest.size());
  Append(frame, {0x60, 0, 0, 0, payload >> 8, payload & 0xff, next, 64});
  Append(frame, source);
  Append(frame, destination);
  for (int byte : rest) {
    Append(frame, {byte});
  }
  return frame;
}

std::vector<int> Concat(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ----- ParseFlowMatch

TEST(ParseFlowMatchTest, ReadsTheProtoComments) {
  EXPECT_TRUE(
      SameMatch(Parsed("tcp dport 5432"), Make({.protocol = "tcp", .destination_first = 5432})));
  EXPECT_TRUE(SameMatch(Parsed("udp sport 53"), Make({.protocol = "udp", .source_first = 53})));
  EXPECT_TRUE(SameMatch(Parsed("ip daddr 10.1.0.0/16 tcp dport 8000-8099"),
                        Make({.protocol = "tcp",
                              .destination = "10.1.0.0/16",
                              .destination_first = 8000,
                              .destination_last = 8099})));
  EXPECT_TRUE(SameMatch(Parsed("icmp"), Make({.protocol = "icmp"})));
  EXPECT_TRUE(SameMatch(Parsed("ip saddr 10.0.0.0/24 udp"),
                        Make({.protocol = "udp", .source = "10.0.0.0/24"})));
}

TEST(ParseFlowMatchTest, ClausesInAnyOrder) {
  const FlowMatch expected = Make({.protocol = "tcp",
                                   .source = "10.0.0.0/8",
                                   .destination = "10.2.0.0/16",
                                   .source_first = 1000,
                                   .source_last = 2000,
                                   .destination_first = 80});
  for (std::string_view text : {
           "ip saddr 10.0.0.0/8 ip daddr 10.2.0.0/16 tcp sport 1000-2000 dport 80",
           "tcp dport 80 sport 1000-2000 ip daddr 10.2.0.0/16 ip saddr 10.0.0.0/8",
           "ip daddr 10.2.0.0/16 tcp dport 80 ip saddr 10.0.0.0/8 sport 1000-2000",
           "  tcp\tdport 80\nsport  1000-2000\r\nip saddr 10.0.0.0/8 ip daddr 10.2.0.0/16  ",
       }) {
    EXPECT_TRUE(SameMatch(Parsed(text), expected)) << text;
  }
}

TEST(ParseFlowMatchTest, ResultIsCanonical) {
  // Hosts lose their /32 and /128, IPv6 is written the short way, a one-port range is a port.
  EXPECT_EQ(Parsed("ip saddr 10.0.0.1/32").source(), "10.0.0.1");
  EXPECT_EQ(Parsed("ip6 saddr FD00:0:0:0::1/128").source(), "fd00::1");
  EXPECT_EQ(Parsed("ip6 daddr fd00:0000:0::/64").destination(), "fd00::/64");
  EXPECT_EQ(Parsed("ip saddr 0.0.0.0/0").source(), "0.0.0.0/0");
  const FlowMatch single = Parsed("tcp dport 80-80");
  EXPECT_EQ(single.destination_port().first(), 80u);
  EXPECT_EQ(single.destination_port().last(), 0u);
  EXPECT_FALSE(single.has_source_port());
  EXPECT_TRUE(
      SameMatch(Parsed("ip6 saddr fd00::1 ip6 daddr fd00::/64 sctp"),
                Make({.protocol = "sctp", .source = "fd00::1", .destination = "fd00::/64"})));
  EXPECT_TRUE(SameMatch(Parsed("icmpv6 ip6 daddr ff02::1"),
                        Make({.protocol = "icmpv6", .destination = "ff02::1"})));
}

TEST(ParseFlowMatchTest, PortEdges) {
  EXPECT_EQ(Parsed("udp dport 1").destination_port().first(), 1u);
  EXPECT_EQ(Parsed("udp dport 65535").destination_port().first(), 65535u);
  EXPECT_EQ(Parsed("udp dport 1-65535").destination_port().last(), 65535u);
  for (std::string_view text :
       {"udp dport 0", "udp dport 65536", "udp dport 99999999", "udp dport -80", "udp dport 80-",
        "udp dport +80", "udp dport 1-2-3", "udp dport 0-80", "udp dport 80-0", "udp dport http",
        "udp dport 8o"}) {
    EXPECT_THAT(ParseError(text),
                HasSubstr("word 3 \"" + std::string(text.substr(10)) +
                          "\": expected a port (1..65535) or a range such as 8000-8099"))
        << text;
  }
  EXPECT_EQ(ParseError("udp dport 2000-1000"),
            "match \"udp dport 2000-1000\": word 3 \"2000-1000\": the range runs backwards: "
            "write 1000-2000");
}

TEST(ParseFlowMatchTest, ExactErrors) {
  EXPECT_EQ(ParseError("tcp dprt 80"),
            "match \"tcp dprt 80\": word 2 \"dprt\": expected sport, dport, ip, ip6 or a protocol "
            "(tcp, udp, sctp, icmp, icmpv6)");
  EXPECT_EQ(ParseError("tpc dport 80"),
            "match \"tpc dport 80\": word 1 \"tpc\": expected ip, ip6 or a protocol (tcp, udp, "
            "sctp, icmp, icmpv6)");
  EXPECT_EQ(ParseError(""), "an empty match: write e.g. `tcp dport 5432`");
  EXPECT_EQ(ParseError(" \t\n "), "an empty match: write e.g. `tcp dport 5432`");
  EXPECT_EQ(ParseError("dport 80"),
            "match \"dport 80\": word 1 \"dport\": a port needs its protocol first: write "
            "`tcp dport 80` or `udp dport 80`");
  EXPECT_EQ(ParseError("ip saddr 10.0.0.1/24"),
            "match \"ip saddr 10.0.0.1/24\": word 3 \"10.0.0.1/24\": host bits set beyond /24: "
            "the network is 10.0.0.0/24");
  EXPECT_EQ(ParseError("tcp dport 80 dport 81"),
            "match \"tcp dport 80 dport 81\": word 4 \"dport\": a second dport (the first at word "
            "2); for several ports give a range, e.g. 8000-8099");
  EXPECT_EQ(ParseError("tcp udp"),
            "match \"tcp udp\": word 2 \"udp\": a second protocol (tcp at word 1); a match holds "
            "one: give each protocol a flow");
  EXPECT_EQ(ParseError("ip saddr 10.0.0.1 ip6 daddr fd00::1"),
            "match \"ip saddr 10.0.0.1 ip6 daddr fd00::1\": word 4 \"ip6\": IPv6, but word 1 "
            "\"ip\" made the match IPv4; a match is of one family: give each family a flow");
  EXPECT_EQ(ParseError("ip saddr fd00::1"),
            "match \"ip saddr fd00::1\": word 3 \"fd00::1\": an IPv6 address after ip: write ip6 "
            "saddr fd00::1");
  EXPECT_EQ(ParseError("tcp dport"),
            "match \"tcp dport\": ends after word 2 \"dport\": expected a port (1..65535) or a "
            "range such as 8000-8099");
  EXPECT_EQ(ParseError("icmp dport 80"),
            "match \"icmp dport 80\": word 2 \"dport\": icmp (word 1) has no ports: ports go with "
            "tcp, udp or sctp");
}

TEST(ParseFlowMatchTest, ErrorsNameTheWordAndWhatWasExpected) {
  EXPECT_THAT(ParseError("ip"), HasSubstr("ends after word 1 \"ip\": expected saddr or daddr"));
  EXPECT_THAT(ParseError("ip src 10.0.0.1"),
              HasSubstr("word 2 \"src\": expected saddr or daddr after ip"));
  EXPECT_THAT(ParseError("ip6 saddr"),
              HasSubstr("ends after word 2 \"saddr\": expected an IPv6 address or CIDR"));
  EXPECT_THAT(ParseError("ip6 saddr 10.0.0.1"),
              HasSubstr("word 3 \"10.0.0.1\": an IPv4 address after ip6: write ip saddr 10.0.0.1"));
  EXPECT_THAT(ParseError("ip saddr 10.0.0.256"),
              HasSubstr("word 3 \"10.0.0.256\": expected an IPv4 or IPv6 address or CIDR"));
  EXPECT_THAT(ParseError("ip saddr 10.0.0.0/33"),
              HasSubstr("expected a prefix length 0..32 after the IPv4 address's /"));
  EXPECT_THAT(ParseError("ip6 saddr fd00::/129"),
              HasSubstr("expected a prefix length 0..128 after the IPv6 address's /"));
  EXPECT_THAT(ParseError("ip saddr 10.0.0.0/"), HasSubstr("expected a prefix length 0..32"));
  EXPECT_THAT(ParseError("ip saddr 10.0.0.0/-1"), HasSubstr("expected a prefix length 0..32"));
  EXPECT_THAT(ParseError("ip6 daddr fd00::1/64"),
              HasSubstr("host bits set beyond /64: the network is fd00::/64"));
  EXPECT_THAT(ParseError("ip6 daddr fd00::zz"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(ParseError("ip saddr 10.0.0.1 ip saddr 10.0.0.1"),
              HasSubstr("word 5 \"saddr\": a second source address (the first at word 2)"));
  EXPECT_THAT(ParseError("ip daddr 10.0.0.1 ip6 daddr ::1"),
              HasSubstr("a second destination address"));
  EXPECT_THAT(ParseError("ip saddr 10.0.0.1 icmpv6"),
              HasSubstr("word 4 \"icmpv6\": IPv6, but word 1 \"ip\" made the match IPv4; a "
                        "match is of one family: give each family a flow; ICMP over IPv4 is "
                        "icmp"));
  EXPECT_THAT(ParseError("icmp ip6 daddr ::1"),
              HasSubstr("word 2 \"ip6\": IPv6, but word 1 \"icmp\" made the match IPv4"));
  EXPECT_THAT(ParseError("ip6 saddr ::1 icmp"), HasSubstr("; ICMP over IPv6 is icmpv6"));
  EXPECT_THAT(ParseError("sport 53 udp"),
              HasSubstr("word 1 \"sport\": a port needs its protocol first: write `tcp sport 53`"));
  EXPECT_THAT(ParseError("udp dport 53 sport 1 sport 2"), HasSubstr("a second sport"));
  EXPECT_THAT(ParseError("TCP"), HasSubstr("word 1 \"TCP\": expected ip, ip6 or a protocol"));
  EXPECT_THAT(ParseError("tcp dport 80 extra"), HasSubstr("word 4 \"extra\": expected sport"));
  // Quotes and control bytes are escaped, not passed on raw.
  EXPECT_THAT(ParseError("tcp \"x\x01"), HasSubstr("word 2 \"\\\"x\\x01\""));
}

TEST(ParseFlowMatchTest, LongTextIsRefused) {
  std::string text = "tcp";
  text.resize(kMaxFlowMatchTextBytes, ' ');
  EXPECT_TRUE(ParseFlowMatch(text).ok());
  text.push_back(' ');
  EXPECT_EQ(ParseError(text),
            "a match of 513 bytes: at most 512 (a match is a few words, e.g. `tcp dport 5432`)");
}

// ----- ValidateFlowMatch

TEST(ValidateFlowMatchTest, ValidForms) {
  EXPECT_EQ(Problem(FlowMatch()), "");  // all traffic
  EXPECT_EQ(Problem(Make({.protocol = "tcp", .destination_first = 5432})), "");
  // Not canonical, still valid.
  EXPECT_EQ(Problem(Make({.protocol = "udp",
                          .source = "10.0.0.1/32",
                          .destination_first = 53,
                          .destination_last = 53})),
            "");
  EXPECT_EQ(Problem(Make({.protocol = "icmpv6", .source = "FD00::1", .destination = "ff02::/16"})),
            "");
  EXPECT_EQ(Problem(Make({.source = "10.0.0.0/8"})), "");
  EXPECT_EQ(Problem(Make({.protocol = "sctp", .source_first = 1, .source_last = 65535})), "");
}

TEST(ValidateFlowMatchTest, MessagesNameTheField) {
  EXPECT_EQ(Problem(Make({.protocol = "TCP"})),
            "match.protocol: \"TCP\" is not one of tcp, udp, sctp, icmp, icmpv6 (or \"\" for any)");
  EXPECT_EQ(Problem(Make({.source = "10.0.0.1/24"})),
            "match.source: \"10.0.0.1/24\": host bits set beyond /24: the network is 10.0.0.0/24");
  EXPECT_THAT(Problem(Make({.destination = "example.com"})),
              HasSubstr("match.destination: \"example.com\": expected an IPv4 or IPv6 address"));
  EXPECT_EQ(Problem(Make({.source = "10.0.0.1", .destination = "fd00::1"})),
            "match.destination: an IPv6 CIDR, but match.source is IPv4; a match is of one "
            "family: give each family a flow");
  EXPECT_EQ(Problem(Make({.protocol = "icmp", .destination = "fd00::1"})),
            "match.destination: an IPv6 CIDR, but match.protocol icmp is IPv4; a match is of one "
            "family: give each family a flow");
  EXPECT_THAT(Problem(Make({.protocol = "icmpv6", .source = "10.0.0.1"})),
              HasSubstr("match.source: an IPv4 CIDR, but match.protocol icmpv6 is IPv6"));
  EXPECT_EQ(Problem(Make({.destination_first = 80})),
            "match.destination_port: ports need match.protocol tcp, udp or sctp, but it is empty "
            "(any)");
  EXPECT_EQ(Problem(Make({.protocol = "icmp", .source_first = 80})),
            "match.source_port: ports need match.protocol tcp, udp or sctp, but it is icmp");
  EXPECT_EQ(Problem(Make({.protocol = "tcp", .destination_last = 80})),
            "match.destination_port.first: 0 is not a port (1..65535); leave destination_port "
            "unset for any port");
  EXPECT_THAT(Problem(Make({.protocol = "tcp", .destination_first = 65536})),
              HasSubstr("match.destination_port.first: 65536 is not a port"));
  EXPECT_EQ(Problem(Make({.protocol = "tcp", .source_first = 80, .source_last = 65536})),
            "match.source_port.last: 65536 is not a port (1..65535, or 0 for first alone)");
  EXPECT_EQ(Problem(Make({.protocol = "udp", .source_first = 2000, .source_last = 1000})),
            "match.source_port.last: 1000 is below first (2000); 0 means first alone");
  // A present but empty range is a mistake, not "any port".
  FlowMatch empty_range = Make({.protocol = "tcp"});
  empty_range.mutable_destination_port();
  EXPECT_THAT(Problem(empty_range), HasSubstr("match.destination_port.first: 0 is not a port"));
  EXPECT_FALSE(FlowMatcher::Compile(empty_range).ok());
}

// ----- Canonical text

TEST(FlowMatchTextTest, PrintsTheCanonicalOrder) {
  EXPECT_EQ(FlowMatchText(FlowMatch()), "");
  EXPECT_EQ(FlowMatchText(Make({.protocol = "tcp",
                                .source = "10.0.0.1/32",
                                .destination = "10.2.0.0/16",
                                .source_first = 1000,
                                .source_last = 2000,
                                .destination_first = 80,
                                .destination_last = 80})),
            "ip saddr 10.0.0.1 ip daddr 10.2.0.0/16 tcp sport 1000-2000 dport 80");
  EXPECT_EQ(FlowMatchText(Make({.protocol = "icmpv6", .destination = "FD00:0::/64"})),
            "ip6 daddr fd00::/64 icmpv6");
  EXPECT_EQ(FlowMatchText(Make({.source = "::ffff:10.0.0.1"})), "ip6 saddr ::ffff:10.0.0.1");
}

TEST(FlowMatchTextTest, RoundTrips) {
  const std::vector<FlowMatch> matches = {
      Make({.protocol = "tcp"}),
      Make({.protocol = "udp", .destination_first = 53}),
      Make({.protocol = "udp", .destination_first = 53, .destination_last = 53}),
      Make({.protocol = "sctp", .source_first = 1, .source_last = 65535}),
      Make({.protocol = "tcp", .source_first = 65535, .destination_first = 1}),
      Make({.protocol = "icmp"}),
      Make({.protocol = "icmpv6"}),
      Make({.source = "10.0.0.0/24"}),
      Make({.destination = "10.0.0.7/32"}),
      Make({.source = "0.0.0.0/0", .destination = "255.255.255.255"}),
      Make({.source = "::/0"}),
      Make({.protocol = "tcp", .source = "fd00:0:0:0:0:0:0:1", .destination = "FD00::/8"}),
      Make({.protocol = "icmp", .source = "192.168.0.0/16", .destination = "192.168.1.128/25"}),
      Make({.protocol = "icmpv6", .destination = "ff02::1:ff00:0/104"}),
      Make({.protocol = "tcp",
            .source = "10.0.0.0/8",
            .destination = "10.1.2.3",
            .source_first = 1024,
            .source_last = 65535,
            .destination_first = 8000,
            .destination_last = 8099}),
  };
  std::set<uint64_t> keys;
  for (const FlowMatch& match : matches) {
    ASSERT_EQ(Problem(match), "") << match.ShortDebugString();
    const std::string text = FlowMatchText(match);
    const FlowMatch canonical = CanonicalFlowMatch(match);
    EXPECT_TRUE(SameMatch(Parsed(text), canonical))
        << text << " -> " << Parsed(text).ShortDebugString();
    EXPECT_EQ(FlowMatchText(canonical), text);
    EXPECT_EQ(FlowMatchKey(match), FlowMatchKey(canonical));
    EXPECT_TRUE(SameMatch(CanonicalFlowMatch(canonical), canonical));
    keys.insert(FlowMatchKey(canonical));
  }
  // Two of the table are one match spelled two ways (udp dport 53 and 53-53).
  EXPECT_EQ(keys.size(), matches.size() - 1);
}

TEST(FlowMatchKeyTest, IsFnv1aOfTheCanonicalText) {
  // Written out, so that a change of hash or text shows here: seeds must not drift.
  EXPECT_EQ(FlowMatchKey(Parsed("tcp dport 5432")), 0xbcc251e83469609dULL);
  EXPECT_EQ(FlowMatchKey(FlowMatch()), 0xcbf29ce484222325ULL);
  EXPECT_EQ(FlowMatchKey(Parsed("  tcp   dport 5432-5432")), 0xbcc251e83469609dULL);
}

// ----- FlowMatcher

TEST(FlowMatcherTest, CompileRejectsWhatValidateRejects) {
  EXPECT_FALSE(FlowMatcher::Compile(Make({.protocol = "gre"})).ok());
  EXPECT_FALSE(FlowMatcher::Compile(Make({.destination_first = 80})).ok());
  EXPECT_TRUE(FlowMatcher::Compile(FlowMatch()).ok());
}

TEST(FlowMatcherTest, Ipv4TcpPorts) {
  const FlowMatcher dport = Compiled("tcp dport 80");
  EXPECT_TRUE(dport.Matches(Ipv4({})));
  EXPECT_FALSE(dport.Matches(Ipv4({.transport = Ports(40000, 81)})));
  EXPECT_FALSE(dport.Matches(Ipv4({.transport = Ports(80, 40000)})));
  EXPECT_FALSE(dport.Matches(Ipv4({.protocol = 17})));
  EXPECT_TRUE(Compiled("tcp").Matches(Ipv4({})));
  EXPECT_FALSE(Compiled("udp").Matches(Ipv4({})));
  EXPECT_FALSE(Compiled("sctp").Matches(Ipv4({})));
  EXPECT_TRUE(Compiled("sctp dport 80").Matches(Ipv4({.protocol = 132})));
  EXPECT_TRUE(Compiled("tcp sport 40000").Matches(Ipv4({})));
  EXPECT_TRUE(Compiled("tcp sport 40000 dport 80").Matches(Ipv4({})));
  EXPECT_FALSE(Compiled("tcp sport 40000 dport 81").Matches(Ipv4({})));
  // IPv4 options move the transport header.
  EXPECT_TRUE(dport.Matches(Ipv4({.options_words = 3})));
  EXPECT_FALSE(Compiled("tcp dport 257").Matches(Ipv4({.options_words = 3})));
}

TEST(FlowMatcherTest, PortRangeEdges) {
  const FlowMatcher range = Compiled("udp sport 1000-2000");
  for (int port : {1000, 1001, 1999, 2000}) {
    EXPECT_TRUE(range.Matches(Ipv4({.protocol = 17, .transport = Ports(port, 53)}))) << port;
  }
  for (int port : {1, 999, 2001, 65535}) {
    EXPECT_FALSE(range.Matches(Ipv4({.protocol = 17, .transport = Ports(port, 53)}))) << port;
  }
  const FlowMatcher all = Compiled("udp dport 1-65535");
  EXPECT_TRUE(all.Matches(Ipv4({.protocol = 17, .transport = Ports(9, 1)})));
  EXPECT_TRUE(all.Matches(Ipv4({.protocol = 17, .transport = Ports(9, 65535)})));
  // Port 0 is outside every range a match can say.
  EXPECT_FALSE(all.Matches(Ipv4({.protocol = 17, .transport = Ports(9, 0)})));
  EXPECT_TRUE(
      Compiled("udp dport 65535").Matches(Ipv4({.protocol = 17, .transport = Ports(9, 65535)})));
}

TEST(FlowMatcherTest, Icmp) {
  const Frame echo = Ipv4({.protocol = 1, .transport = {8, 0, 0, 0, 0, 1, 0, 1}});
  EXPECT_TRUE(Compiled("icmp").Matches(echo));
  EXPECT_FALSE(Compiled("icmpv6").Matches(echo));
  EXPECT_FALSE(Compiled("tcp").Matches(echo));
  EXPECT_TRUE(Compiled("ip daddr 10.0.0.2 icmp").Matches(echo));
  const Frame echo6 = Ipv6(58, {128, 0, 0, 0, 0, 1, 0, 1});
  EXPECT_TRUE(Compiled("icmpv6").Matches(echo6));
  EXPECT_FALSE(Compiled("icmp").Matches(echo6));
  // Protocol 1 inside IPv6 is not ICMP: icmp is IPv4's.
  EXPECT_FALSE(Compiled("icmp").Matches(Ipv6(1, {8, 0, 0, 0})));
}

TEST(FlowMatcherTest, Ipv4CidrBoundaries) {
  const auto from = [](V4 source) { return Ipv4({.source = source}); };
  const FlowMatcher slash24 = Compiled("ip saddr 10.0.0.0/24");
  EXPECT_TRUE(slash24.Matches(from({10, 0, 0, 0})));
  EXPECT_TRUE(slash24.Matches(from({10, 0, 0, 255})));
  EXPECT_FALSE(slash24.Matches(from({10, 0, 1, 0})));
  EXPECT_FALSE(slash24.Matches(from({9, 255, 255, 255})));
  const FlowMatcher slash20 = Compiled("ip saddr 172.16.16.0/20");
  EXPECT_TRUE(slash20.Matches(from({172, 16, 16, 0})));
  EXPECT_TRUE(slash20.Matches(from({172, 16, 31, 255})));
  EXPECT_FALSE(slash20.Matches(from({172, 16, 32, 0})));
  EXPECT_FALSE(slash20.Matches(from({172, 16, 15, 255})));
  const FlowMatcher slash31 = Compiled("ip saddr 10.0.0.6/31");
  EXPECT_TRUE(slash31.Matches(from({10, 0, 0, 6})));
  EXPECT_TRUE(slash31.Matches(from({10, 0, 0, 7})));
  EXPECT_FALSE(slash31.Matches(from({10, 0, 0, 8})));
  EXPECT_FALSE(slash31.Matches(from({10, 0, 0, 5})));
  const FlowMatcher host = Compiled("ip saddr 10.0.0.1");
  EXPECT_TRUE(host.Matches(from({10, 0, 0, 1})));
  EXPECT_FALSE(host.Matches(from({10, 0, 0, 3})));
  // saddr reads the source, daddr the destination.
  EXPECT_FALSE(Compiled("ip daddr 10.0.0.1").Matches(from({10, 0, 0, 1})));
  EXPECT_TRUE(Compiled("ip daddr 10.0.0.2").Matches(from({10, 0, 0, 1})));
  EXPECT_TRUE(Compiled("ip saddr 10.0.0.1 ip daddr 10.0.0.2 tcp dport 80").Matches(Ipv4({})));
  // /0 is every IPv4 packet, and only IPv4.
  const FlowMatcher any4 = Compiled("ip saddr 0.0.0.0/0");
  EXPECT_TRUE(any4.Matches(from({255, 255, 255, 255})));
  EXPECT_FALSE(any4.Matches(Ipv6(6, Ports(1, 2))));
}

TEST(FlowMatcherTest, Ipv6CidrBoundaries) {
  const auto to = [](V6 destination) { return Ipv6(6, Ports(40000, 443), kV6Source, destination); };
  const FlowMatcher slash64 = Compiled("ip6 daddr fd00:0:0:1::/64");
  EXPECT_TRUE(slash64.Matches(to(kV6Destination)));
  EXPECT_TRUE(
      slash64.Matches(to({0xfd, 0, 0, 0, 0, 0, 0, 1, 255, 255, 255, 255, 255, 255, 255, 255})));
  EXPECT_FALSE(slash64.Matches(to({0xfd, 0, 0, 0, 0, 0, 0, 2})));
  EXPECT_FALSE(
      slash64.Matches(to({0xfd, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255})));
  const FlowMatcher slash127 = Compiled("ip6 daddr fd00:0:0:1::2/127");
  EXPECT_TRUE(slash127.Matches(to(kV6Destination)));
  EXPECT_TRUE(slash127.Matches(to({0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3})));
  EXPECT_FALSE(slash127.Matches(to({0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4})));
  EXPECT_TRUE(Compiled("ip6 saddr fd00::1 tcp dport 443").Matches(to(kV6Destination)));
  EXPECT_FALSE(Compiled("ip6 saddr fd00::2").Matches(to(kV6Destination)));
  // An IPv6 match never holds for IPv4, even one whose bytes would fit.
  EXPECT_FALSE(Compiled("ip6 saddr ::/0").Matches(Ipv4({})));
  EXPECT_TRUE(Compiled("ip6 saddr ::/0").Matches(to(kV6Destination)));
}

TEST(FlowMatcherTest, Ipv6ExtensionHeadersAreWalked) {
  // Hop-by-hop (8 bytes) then destination options (16 bytes) then TCP to port 443.
  const std::vector<int> hop_by_hop = {60, 0, 1, 4, 0, 0, 0, 0};
  const std::vector<int> destination_options = {6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const Frame frame = Ipv6(0, Concat(Concat(hop_by_hop, destination_options), Ports(40000, 443)));
  EXPECT_TRUE(Compiled("tcp dport 443").Matches(frame));
  EXPECT_TRUE(Compiled("tcp").Matches(frame));
  EXPECT_FALSE(Compiled("tcp dport 80").Matches(frame));
  EXPECT_FALSE(Compiled("udp").Matches(frame));
  // Routing header (type 0 with no addresses, 8 bytes) then UDP.
  EXPECT_TRUE(Compiled("udp dport 53")
                  .Matches(Ipv6(43, Concat({17, 0, 0, 0, 0, 0, 0, 0}, Ports(40000, 53)))));
  // An extension header that claims more than the frame holds: protocol unknown.
  EXPECT_FALSE(Compiled("tcp").Matches(Ipv6(0, {6, 4, 0, 0, 0, 0, 0, 0})));
  EXPECT_TRUE(Compiled("ip6 saddr fd00::1").Matches(Ipv6(0, {6, 4, 0, 0, 0, 0, 0, 0})));
}

TEST(FlowMatcherTest, FragmentsHaveNoPorts) {
  const FlowMatcher udp = Compiled("udp");
  const FlowMatcher dns = Compiled("udp dport 53");
  const FlowMatcher source = Compiled("ip saddr 10.0.0.1 udp");
  for (uint16_t fragment : {0x2000, 0x0001, 0x00b9, 0x2000 | 0x00b9}) {
    const Frame frame = Ipv4({.protocol = 17, .transport = Ports(40000, 53), .fragment = fragment});
    EXPECT_TRUE(udp.Matches(frame)) << fragment;
    EXPECT_TRUE(source.Matches(frame)) << fragment;
    EXPECT_FALSE(dns.Matches(frame)) << fragment;
  }
  // Don't-fragment is not a fragment.
  EXPECT_TRUE(
      dns.Matches(Ipv4({.protocol = 17, .transport = Ports(40000, 53), .fragment = 0x4000})));
  // IPv6: any fragment header, the first fragment (offset 0, more fragments) included.
  const Frame first = Ipv6(44, Concat({17, 0, 0, 1, 0, 0, 0, 7}, Ports(40000, 53)));
  EXPECT_TRUE(udp.Matches(first));
  EXPECT_FALSE(dns.Matches(first));
  EXPECT_TRUE(Compiled("ip6 daddr fd00:0:0:1::/64 udp").Matches(first));
}

TEST(FlowMatcherTest, VlanTagsAreLookedThrough) {
  const FlowMatcher dport = Compiled("ip daddr 10.0.0.2 tcp dport 80");
  EXPECT_TRUE(dport.Matches(Ipv4({.tags = {0x8100}})));
  EXPECT_TRUE(dport.Matches(Ipv4({.tags = {0x88a8, 0x8100}})));
  EXPECT_TRUE(dport.Matches(Ipv4({.tags = {0x9100, 0x8100}})));
  // A third tag is past what is looked through.
  EXPECT_FALSE(dport.Matches(Ipv4({.tags = {0x88a8, 0x8100, 0x8100}})));
  EXPECT_TRUE(Compiled("tcp").Matches(Ipv4({.tags = {0x8100}})));
}

TEST(FlowMatcherTest, TruncatedFramesDoNotMatchWhatTheyLack) {
  const Frame whole = Ipv4({});
  const FlowMatcher dport = Compiled("tcp dport 80");
  const FlowMatcher tcp = Compiled("tcp");
  const FlowMatcher source = Compiled("ip saddr 10.0.0.1");
  ASSERT_TRUE(dport.Matches(whole));
  // Every prefix of the frame: no read past the end (ASan watches), and a condition holds only
  // when its bytes are there.
  for (size_t size = 0; size <= whole.size(); ++size) {
    const Frame cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size));
    const bool ip_header = size >= 14 + 20;
    const bool ports = size >= 14 + 20 + 4;
    // The total length says 28 bytes more than a cut frame holds: it is ignored, not trusted.
    EXPECT_EQ(tcp.Matches(cut), ip_header) << size;
    EXPECT_EQ(source.Matches(cut), ip_header) << size;
    EXPECT_EQ(dport.Matches(cut), ports) << size;
    EXPECT_FALSE(Compiled("ip6 saddr ::/0").Matches(cut)) << size;
  }
  const Frame whole6 = Ipv6(6, Ports(40000, 443));
  for (size_t size = 0; size <= whole6.size(); ++size) {
    const Frame cut(whole6.begin(), whole6.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_EQ(tcp.Matches(cut), size >= 14 + 40) << size;
    EXPECT_EQ(Compiled("tcp dport 443").Matches(cut), size >= 14 + 40 + 4) << size;
  }
  // A header length longer than the frame, or shorter than 20 bytes.
  Frame long_header = whole;
  long_header[14] = std::byte{0x4f};
  EXPECT_FALSE(tcp.Matches(long_header));
  Frame short_header = whole;
  short_header[14] = std::byte{0x44};
  EXPECT_FALSE(tcp.Matches(short_header));
  // Version 6 under the IPv4 ethertype.
  Frame wrong_version = whole;
  wrong_version[14] = std::byte{0x65};
  EXPECT_FALSE(tcp.Matches(wrong_version));
}

TEST(FlowMatcherTest, PaddingIsNotAHeader) {
  // A 20-byte IPv4 packet with no transport header, padded by Ethernet to 60 bytes with bytes
  // that would read as ports 40000 -> 80.
  const Frame padded =
      Ipv4({.transport = Concat(Ports(40000, 80), std::vector<int>(18, 0)), .total_length = 20});
  EXPECT_TRUE(Compiled("tcp").Matches(padded));
  EXPECT_FALSE(Compiled("tcp dport 80").Matches(padded));
}

TEST(FlowMatcherTest, NonIpMatchesOnlyTheEmptyMatch) {
  Frame arp = Ethernet(0x0806);
  Append(arp, {0, 1, 8, 0, 6, 4, 0, 1});
  for (int i = 0; i < 20; ++i) {
    Append(arp, {10});
  }
  const FlowMatcher everything = *FlowMatcher::Compile(FlowMatch());
  EXPECT_TRUE(everything.Matches(arp));
  EXPECT_TRUE(everything.Matches({}));
  EXPECT_TRUE(everything.Matches(Ipv4({})));
  EXPECT_FALSE(Compiled("tcp").Matches(arp));
  EXPECT_FALSE(Compiled("ip saddr 0.0.0.0/0").Matches(arp));
  EXPECT_FALSE(Compiled("ip6 saddr ::/0").Matches(arp));
  EXPECT_FALSE(Compiled("icmp").Matches({}));
}

}  // namespace
}  // namespace nslab::impair
