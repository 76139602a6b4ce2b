#pragma once

// Decodes RTM_*QDISC requests (ours from nl_msg, tc's from strace hex dumps) into the parts
// the tests compare: the tcmsg, TCA_KIND, and TCA_OPTIONS split into its attributes.

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace nslab::impair::kernel::testing {

using Bytes = std::vector<uint8_t>;

struct Attr {
  uint16_t type = 0;  // flags (NLA_F_NESTED) included
  Bytes payload;
  bool operator==(const Attr&) const = default;
};

struct DecodedRequest {
  uint16_t nlmsg_type = 0;
  uint16_t nlmsg_flags = 0;
  tcmsg tcm{};
  std::string kind;
  uint16_t options_type = 0;
  // TCA_OPTIONS' payload, whole; then split: `head` is what precedes the attributes
  // (netem's tc_netem_qopt; empty for tbf), `attrs` the attributes after it.
  Bytes options;
  Bytes head;
  std::vector<Attr> attrs;
};

// Splits a run of attributes; nullopt when a length is inconsistent.
inline std::optional<std::vector<Attr>> SplitAttrs(const uint8_t* data, size_t len) {
  std::vector<Attr> attrs;
  size_t offset = 0;
  while (offset < len) {
    if (offset + NLA_HDRLEN > len) {
      return std::nullopt;
    }
    nlattr header;
    std::memcpy(&header, data + offset, sizeof(header));
    if (header.nla_len < NLA_HDRLEN || offset + header.nla_len > len) {
      return std::nullopt;
    }
    attrs.push_back(
        Attr{header.nla_type, Bytes(data + offset + NLA_HDRLEN, data + offset + header.nla_len)});
    offset += NLA_ALIGN(header.nla_len);
  }
  return attrs;
}

// `head_len`: bytes of TCA_OPTIONS before its attributes (sizeof(tc_netem_qopt) for netem).
inline std::optional<DecodedRequest> Decode(const Bytes& bytes, size_t head_len) {
  if (bytes.size() < NLMSG_HDRLEN + sizeof(tcmsg)) {
    return std::nullopt;
  }
  nlmsghdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  if (header.nlmsg_len != bytes.size()) {
    return std::nullopt;
  }
  DecodedRequest decoded;
  decoded.nlmsg_type = header.nlmsg_type;
  decoded.nlmsg_flags = header.nlmsg_flags;
  std::memcpy(&decoded.tcm, bytes.data() + NLMSG_HDRLEN, sizeof(tcmsg));
  const size_t attrs_at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(tcmsg));
  auto top = SplitAttrs(bytes.data() + attrs_at, bytes.size() - attrs_at);
  if (!top) {
    return std::nullopt;
  }
  for (const Attr& attr : *top) {
    if (attr.type == TCA_KIND) {
      decoded.kind.assign(attr.payload.begin(), attr.payload.end());
      while (!decoded.kind.empty() && decoded.kind.back() == '\0') {
        decoded.kind.pop_back();
      }
    } else if ((attr.type & NLA_TYPE_MASK) == TCA_OPTIONS) {
      decoded.options_type = attr.type;
      decoded.options = attr.payload;
    }
  }
  if (decoded.options.size() < head_len) {
    return std::nullopt;
  }
  decoded.head.assign(decoded.options.begin(), decoded.options.begin() + head_len);
  auto inner = SplitAttrs(decoded.options.data() + head_len, decoded.options.size() - head_len);
  if (!inner) {
    return std::nullopt;
  }
  decoded.attrs = *std::move(inner);
  return decoded;
}

inline Bytes BytesOf(nl_msg* msg) {
  const nlmsghdr* header = nlmsg_hdr(msg);
  const auto* begin = reinterpret_cast<const uint8_t*>(header);
  return Bytes(begin, begin + header->nlmsg_len);
}

// Reads the hex dump capture_tc.sh writes: strace's " | 00000  78 20 00 00 ...  ascii |"
// lines, '#' comments. The 16 hex columns sit at fixed positions, so the ASCII column (which
// may hold '|' or look like hex) is never read.
inline std::optional<Bytes> ReadStraceHex(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  Bytes bytes;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (line.size() < 10 || line.compare(0, 3, " | ") != 0) {
      return std::nullopt;
    }
    if (std::stoul(line.substr(3, 5), nullptr, 16) != bytes.size()) {
      return std::nullopt;  // a row missing or out of order
    }
    std::istringstream hex(line.substr(10, 48));
    std::string token;
    while (hex >> token) {
      bytes.push_back(static_cast<uint8_t>(std::stoul(token, nullptr, 16)));
    }
  }
  return bytes;
}

}  // namespace nslab::impair::kernel::testing
