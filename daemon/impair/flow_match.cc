#include "daemon/impair/flow_match.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/impair/rng.h"

namespace nslab::impair {
namespace {

using nslab::v1::FlowMatch;
using nslab::v1::PortRange;
using Bytes = std::span<const std::byte>;

constexpr absl::string_view kPortExample = "8000-8099";
constexpr absl::string_view kWhitespace = " \t\r\n\f\v";
// Longer than any address with its prefix ("ffff:...:255.255.255.255/128" is 50): anything
// longer is not one, and is not echoed back whole in the error.
constexpr size_t kMaxCidrBytes = 64;

struct Protocol {
  absl::string_view name;
  uint8_t number;
  uint8_t ip_version;  // 4 or 6 for the ICMPs, which belong to one family; 0 for either
  bool has_ports;
};

constexpr Protocol kProtocols[] = {
    {"tcp", 6, 0, true},   {"udp", 17, 0, true},     {"sctp", 132, 0, true},
    {"icmp", 1, 4, false}, {"icmpv6", 58, 6, false},
};

const Protocol* FindProtocol(absl::string_view name) {
  for (const Protocol& protocol : kProtocols) {
    if (protocol.name == name) {
      return &protocol;
    }
  }
  return nullptr;
}

absl::string_view FamilyName(uint8_t ip_version) { return ip_version == 4 ? "IPv4" : "IPv6"; }

// ----- CIDRs

struct Cidr {
  uint8_t ip_version = 0;
  std::array<uint8_t, 16> address{};
  int prefix = 0;

  int Bits() const { return ip_version == 4 ? 32 : 128; }
  size_t Length() const { return ip_version == 4 ? 4 : 16; }
};

std::array<uint8_t, 16> PrefixMask(int prefix) {
  std::array<uint8_t, 16> mask{};
  for (int byte = 0; byte < 16 && prefix > 0; ++byte, prefix -= 8) {
    mask[byte] = prefix >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - prefix));
  }
  return mask;
}

// The shortest text: inet_ntop's (RFC 5952 for IPv6), and no prefix for a single host.
std::string CidrText(const Cidr& cidr) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(cidr.ip_version == 4 ? AF_INET : AF_INET6, cidr.address.data(), buffer, sizeof(buffer));
  if (cidr.prefix == cidr.Bits()) {
    return buffer;
  }
  return absl::StrCat(buffer, "/", cidr.prefix);
}

// A decimal number of at most `max_digits` digits, nothing else (no sign, no spaces).
std::optional<uint32_t> ParseDecimal(absl::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

// The error messages say what is wrong with the text alone; callers say where it came from.
absl::StatusOr<Cidr> ParseCidr(absl::string_view text) {
  constexpr absl::string_view kExpected =
      "expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.1, 10.0.0.0/24 or fd00::/64";
  if (text.size() > kMaxCidrBytes) {
    return absl::InvalidArgumentError(kExpected);
  }
  const size_t slash = text.find('/');
  const absl::string_view address = text.substr(0, slash);
  // inet_pton reads up to a NUL: one inside would hide what follows it.
  if (address.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(kExpected);
  }
  const std::string terminated(address);
  Cidr cidr;
  if (address.find(':') != absl::string_view::npos) {
    if (inet_pton(AF_INET6, terminated.c_str(), cidr.address.data()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("not an IPv6 address; ", kExpected));
    }
    cidr.ip_version = 6;
  } else if (inet_pton(AF_INET, terminated.c_str(), cidr.address.data()) == 1) {
    cidr.ip_version = 4;
  } else {
    return absl::InvalidArgumentError(kExpected);
  }
  cidr.prefix = cidr.Bits();
  if (slash != absl::string_view::npos) {
    const std::optional<uint32_t> prefix = ParseDecimal(text.substr(slash + 1), 3);
    if (!prefix.has_value() || *prefix > static_cast<uint32_t>(cidr.Bits())) {
      return absl::InvalidArgumentError(absl::StrCat("expected a prefix length 0..", cidr.Bits(),
                                                     " after the ", FamilyName(cidr.ip_version),
                                                     " address's /"));
    }
    cidr.prefix = static_cast<int>(*prefix);
  }
  const std::array<uint8_t, 16> mask = PrefixMask(cidr.prefix);
  Cidr network = cidr;
  for (size_t i = 0; i < network.address.size(); ++i) {
    network.address[i] &= mask[i];
  }
  if (network.address != cidr.address) {
    return absl::InvalidArgumentError(absl::StrCat("host bits set beyond /", cidr.prefix,
                                                   ": the network is ", CidrText(network)));
  }
  return cidr;
}

// ----- Ports

std::optional<uint32_t> ParsePort(absl::string_view text) {
  const std::optional<uint32_t> port = ParseDecimal(text, 5);
  if (!port.has_value() || *port < 1 || *port > 65535) {
    return std::nullopt;
  }
  return port;
}

absl::StatusOr<PortRange> ParsePortRange(absl::string_view text) {
  const size_t dash = text.find('-');
  const std::optional<uint32_t> first = ParsePort(text.substr(0, dash));
  const std::optional<uint32_t> last =
      dash == absl::string_view::npos ? first : ParsePort(text.substr(dash + 1));
  if (!first.has_value() || !last.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a port (1..65535) or a range such as ", kPortExample));
  }
  if (*first > *last) {
    return absl::InvalidArgumentError(
        absl::StrCat("the range runs backwards: write ", *last, "-", *first));
  }
  PortRange range;
  range.set_first(*first);
  range.set_last(*last == *first ? 0 : *last);
  return range;
}

std::string PortRangeText(const PortRange& range) {
  if (range.last() == 0 || range.last() == range.first()) {
    return absl::StrCat(range.first());
  }
  return absl::StrCat(range.first(), "-", range.last());
}

// ----- The text

// Reads the words of one match; each Parse* consumes a clause and advances `at`.
class MatchTextParser {
 public:
  MatchTextParser(absl::string_view text, std::vector<absl::string_view> words)
      : text_(text), words_(std::move(words)) {}

  absl::StatusOr<FlowMatch> Parse() {
    for (size_t at = 0; at < words_.size();) {
      const absl::string_view word = words_[at];
      absl::Status status;
      if (word == "ip" || word == "ip6") {
        status = ParseAddress(at);
      } else if (FindProtocol(word) != nullptr) {
        status = ParseProtocol(at);
      } else if (word == "sport" || word == "dport") {
        status = ParsePorts(at);
      } else {
        status = WordError(at, protocol_ != nullptr && protocol_->has_ports
                                   ? "expected sport, dport, ip, ip6 or a protocol (tcp, udp, "
                                     "sctp, icmp, icmpv6)"
                                   : "expected ip, ip6 or a protocol (tcp, udp, sctp, icmp, "
                                     "icmpv6)");
      }
      if (!status.ok()) {
        return status;
      }
    }
    return CanonicalFlowMatch(match_);
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // ip|ip6 saddr|daddr CIDR
  absl::Status ParseAddress(size_t& at) {
    const uint8_t ip_version = words_[at] == "ip" ? 4 : 6;
    if (at + 1 == words_.size()) {
      return EndError(at, "expected saddr or daddr");
    }
    const absl::string_view field = words_[at + 1];
    if (field != "saddr" && field != "daddr") {
      return WordError(at + 1, absl::StrCat("expected saddr or daddr after ", words_[at]));
    }
    const bool source = field == "saddr";
    size_t& seen = source ? source_word_ : destination_word_;
    if (seen != kNone) {
      return WordError(at + 1, absl::StrCat("a second ", source ? "source" : "destination",
                                            " address (the first at word ", seen + 2,
                                            "); a match holds one CIDR each way"));
    }
    if (absl::Status status = SetFamily(at, ip_version); !status.ok()) {
      return status;
    }
    if (at + 2 == words_.size()) {
      return EndError(
          at + 1, absl::StrCat("expected an ", FamilyName(ip_version), " address or CIDR, e.g. ",
                               ip_version == 4 ? "10.0.0.0/24" : "fd00::/64"));
    }
    const absl::string_view value = words_[at + 2];
    absl::StatusOr<Cidr> cidr = ParseCidr(value);
    if (!cidr.ok()) {
      return WordError(at + 2, cidr.status().message());
    }
    if (cidr->ip_version != ip_version) {
      return WordError(
          at + 2,
          absl::StrCat("an ", FamilyName(cidr->ip_version), " address after ", words_[at],
                       ": write ", cidr->ip_version == 4 ? "ip " : "ip6 ", field, " ", value));
    }
    (source ? match_.mutable_source() : match_.mutable_destination())->assign(CidrText(*cidr));
    seen = at;
    at += 3;
    return absl::OkStatus();
  }

  absl::Status ParseProtocol(size_t& at) {
    const Protocol* protocol = FindProtocol(words_[at]);
    if (protocol_ != nullptr) {
      return WordError(
          at, absl::StrCat("a second protocol (", protocol_->name, " at word ", protocol_word_ + 1,
                           "); a match holds one: give each protocol a flow"));
    }
    if (protocol->ip_version != 0) {
      if (absl::Status status = SetFamily(at, protocol->ip_version); !status.ok()) {
        return status;
      }
    }
    protocol_ = protocol;
    protocol_word_ = at;
    match_.set_protocol(std::string(protocol->name));
    at += 1;
    return absl::OkStatus();
  }

  // sport|dport PORTS, after a protocol that has ports.
  absl::Status ParsePorts(size_t& at) {
    const absl::string_view field = words_[at];
    if (protocol_ == nullptr) {
      // Show the caller's own port when it is one.
      absl::string_view example = "80";
      if (at + 1 < words_.size() && ParsePortRange(words_[at + 1]).ok()) {
        example = words_[at + 1];
      }
      return WordError(at, absl::StrCat("a port needs its protocol first: write `tcp ", field, " ",
                                        example, "` or `udp ", field, " ", example, "`"));
    }
    if (!protocol_->has_ports) {
      return WordError(at, absl::StrCat(protocol_->name, " (word ", protocol_word_ + 1,
                                        ") has no ports: ports go with tcp, udp or sctp"));
    }
    const bool source = field == "sport";
    size_t& seen = source ? source_port_word_ : destination_port_word_;
    if (seen != kNone) {
      return WordError(at, absl::StrCat("a second ", field, " (the first at word ", seen + 1,
                                        "); for several ports give a range, e.g. ", kPortExample));
    }
    if (at + 1 == words_.size()) {
      return EndError(at,
                      absl::StrCat("expected a port (1..65535) or a range such as ", kPortExample));
    }
    absl::StatusOr<PortRange> range = ParsePortRange(words_[at + 1]);
    if (!range.ok()) {
      return WordError(at + 1, range.status().message());
    }
    *(source ? match_.mutable_source_port() : match_.mutable_destination_port()) = *range;
    seen = at;
    at += 2;
    return absl::OkStatus();
  }

  // Addresses and icmp/icmpv6 fix the family; the word at `at` must agree with the one that
  // fixed it first.
  absl::Status SetFamily(size_t at, uint8_t ip_version) {
    if (ip_version_ == 0) {
      ip_version_ = ip_version;
      family_word_ = at;
      return absl::OkStatus();
    }
    if (ip_version_ == ip_version) {
      return absl::OkStatus();
    }
    absl::string_view hint = "";
    if (words_[at] == "icmp") {
      hint = "; ICMP over IPv6 is icmpv6";
    } else if (words_[at] == "icmpv6") {
      hint = "; ICMP over IPv4 is icmp";
    }
    return WordError(
        at, absl::StrCat(FamilyName(ip_version), ", but word ", family_word_ + 1, " \"",
                         words_[family_word_], "\" made the match ", FamilyName(ip_version_),
                         "; a match is of one family: give each family a flow", hint));
  }

  std::string Context() const { return absl::StrCat("match \"", absl::CHexEscape(text_), "\""); }

  absl::Status WordError(size_t at, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Context(), ": word ", at + 1, " \"",
                                                   absl::CHexEscape(words_[at]), "\": ", what));
  }

  // The text stopped after the word at `at`, short of the value that word needs.
  absl::Status EndError(size_t at, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Context(), ": ends after word ", at + 1, " \"",
                                                   absl::CHexEscape(words_[at]), "\": ", what));
  }

  absl::string_view text_;
  std::vector<absl::string_view> words_;
  FlowMatch match_;
  uint8_t ip_version_ = 0;
  size_t family_word_ = kNone;
  const Protocol* protocol_ = nullptr;
  size_t protocol_word_ = kNone;
  size_t source_word_ = kNone;
  size_t destination_word_ = kNone;
  size_t source_port_word_ = kNone;
  size_t destination_port_word_ = kNone;
};

void CanonicalizeAddress(std::string& address) {
  if (address.empty()) {
    return;
  }
  if (absl::StatusOr<Cidr> cidr = ParseCidr(address); cidr.ok()) {
    address = CidrText(*cidr);
  }
}

absl::string_view AddressKeyword(absl::string_view address) {
  return address.find(':') == absl::string_view::npos ? "ip" : "ip6";
}

absl::Status ValidatePortRange(absl::string_view name, const PortRange& range) {
  if (range.first() < 1 || range.first() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(name, ".first: ", range.first(),
                                                   " is not a port (1..65535); leave ",
                                                   name.substr(6), " unset for any port"));
  }
  if (range.last() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ".last: ", range.last(), " is not a port (1..65535, or 0 for first alone)"));
  }
  if (range.last() != 0 && range.last() < range.first()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ".last: ", range.last(),
                                                   " is below first (", range.first(),
                                                   "); 0 means first alone"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FlowMatch> ParseFlowMatch(std::string_view input) {
  // absl::string_view, not std's: this abseil build keeps its own type, which StrCat takes.
  const absl::string_view text(input.data(), input.size());
  if (text.size() > kMaxFlowMatchTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a match of ", text.size(), " bytes: at most ", kMaxFlowMatchTextBytes,
                     " (a match is a few words, e.g. `tcp dport 5432`)"));
  }
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(kWhitespace), absl::SkipEmpty());
  if (words.empty()) {
    return absl::InvalidArgumentError("an empty match: write e.g. `tcp dport 5432`");
  }
  return MatchTextParser(text, std::move(words)).Parse();
}

absl::Status ValidateFlowMatch(const FlowMatch& match) {
  const Protocol* protocol = nullptr;
  if (!match.protocol().empty()) {
    protocol = FindProtocol(match.protocol());
    if (protocol == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("match.protocol: \"", absl::CHexEscape(match.protocol().substr(0, 32)),
                       "\" is not one of tcp, udp, sctp, icmp, icmpv6 (or \"\" for any)"));
    }
  }
  uint8_t ip_version = protocol != nullptr ? protocol->ip_version : 0;
  std::string family_from =
      protocol != nullptr ? absl::StrCat("match.protocol ", protocol->name) : std::string();
  const std::pair<absl::string_view, const std::string*> addresses[] = {
      {"match.source", &match.source()}, {"match.destination", &match.destination()}};
  for (const auto& [name, address] : addresses) {
    if (address->empty()) {
      continue;
    }
    absl::StatusOr<Cidr> cidr = ParseCidr(*address);
    if (!cidr.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": \"", absl::CHexEscape(address->substr(0, kMaxCidrBytes)),
                       "\": ", cidr.status().message()));
    }
    if (ip_version != 0 && cidr->ip_version != ip_version) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": an ", FamilyName(cidr->ip_version), " CIDR, but ", family_from, " is ",
          FamilyName(ip_version), "; a match is of one family: give each family a flow"));
    }
    ip_version = cidr->ip_version;
    family_from = std::string(name);
  }
  const std::pair<absl::string_view, const PortRange*> ports[] = {
      {"match.source_port", match.has_source_port() ? &match.source_port() : nullptr},
      {"match.destination_port",
       match.has_destination_port() ? &match.destination_port() : nullptr}};
  for (const auto& [name, range] : ports) {
    if (range == nullptr) {
      continue;
    }
    if (protocol == nullptr || !protocol->has_ports) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ports need match.protocol tcp, udp or sctp, but it is ",
                       protocol == nullptr ? "empty (any)" : protocol->name));
    }
    if (absl::Status status = ValidatePortRange(name, *range); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

FlowMatch CanonicalFlowMatch(const FlowMatch& match) {
  FlowMatch canonical = match;
  CanonicalizeAddress(*canonical.mutable_source());
  CanonicalizeAddress(*canonical.mutable_destination());
  for (PortRange* range :
       {canonical.has_source_port() ? canonical.mutable_source_port() : nullptr,
        canonical.has_destination_port() ? canonical.mutable_destination_port() : nullptr}) {
    if (range != nullptr && range->last() == range->first()) {
      range->set_last(0);
    }
  }
  return canonical;
}

std::string FlowMatchText(const FlowMatch& match) {
  const FlowMatch canonical = CanonicalFlowMatch(match);
  std::string text;
  const auto append = [&text](auto&&... parts) {
    absl::StrAppend(&text, text.empty() ? "" : " ", parts...);
  };
  if (!canonical.source().empty()) {
    append(AddressKeyword(canonical.source()), " saddr ", canonical.source());
  }
  if (!canonical.destination().empty()) {
    append(AddressKeyword(canonical.destination()), " daddr ", canonical.destination());
  }
  if (!canonical.protocol().empty()) {
    append(canonical.protocol());
  }
  if (canonical.has_source_port()) {
    append("sport ", PortRangeText(canonical.source_port()));
  }
  if (canonical.has_destination_port()) {
    append("dport ", PortRangeText(canonical.destination_port()));
  }
  return text;
}

uint64_t FlowMatchKey(const FlowMatch& match) { return Fnv1a64(FlowMatchText(match)); }

absl::StatusOr<FlowMatcher> FlowMatcher::Compile(const FlowMatch& match) {
  if (absl::Status status = ValidateFlowMatch(match); !status.ok()) {
    return status;
  }
  FlowMatcher matcher;
  if (const Protocol* protocol = FindProtocol(match.protocol()); protocol != nullptr) {
    matcher.protocol_ = protocol->number;
    matcher.ip_version_ = protocol->ip_version;
    matcher.matches_everything_ = false;
  }
  const std::pair<const std::string*, Prefix*> prefixes[] = {
      {&match.source(), &matcher.source_}, {&match.destination(), &matcher.destination_}};
  for (const auto& [address, prefix] : prefixes) {
    if (address->empty()) {
      continue;
    }
    const absl::StatusOr<Cidr> cidr = ParseCidr(*address);  // validated above
    if (!cidr.ok()) {
      return cidr.status();
    }
    prefix->any = false;
    prefix->network = cidr->address;
    prefix->mask = PrefixMask(cidr->prefix);
    matcher.ip_version_ = cidr->ip_version;
    matcher.matches_everything_ = false;
  }
  const std::pair<const PortRange*, Ports*> ports[] = {
      {match.has_source_port() ? &match.source_port() : nullptr, &matcher.source_port_},
      {match.has_destination_port() ? &match.destination_port() : nullptr,
       &matcher.destination_port_}};
  for (const auto& [range, compiled] : ports) {
    if (range == nullptr) {
      continue;
    }
    compiled->any = false;
    compiled->first = static_cast<uint16_t>(range->first());
    compiled->last = static_cast<uint16_t>(range->last() == 0 ? range->first() : range->last());
    matcher.matches_everything_ = false;
  }
  return matcher;
}

}  // namespace nslab::impair
