#include "daemon/diag/nftrace.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/log.h"
#include "daemon/diag/netlink_request.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"

namespace nslab::diag {
namespace {

// NFTA_TRACE_CT_DIRECTION (u8) of newer kernels' nf_tables.h; the 6.1 uapi header lacks it.
constexpr uint16_t kNftaTraceCtDirection = 19;

uint32_t Be32(const void* data) {
  uint32_t value;
  std::memcpy(&value, data, sizeof(value));
  return ntohl(value);
}

uint64_t Be64(const void* data) {
  uint64_t value;
  std::memcpy(&value, data, sizeof(value));
  return be64toh(value);
}

std::string FamilyName(int family) {
  switch (family) {
    case NFPROTO_INET:
      return "inet";
    case NFPROTO_IPV4:
      return "ip";
    case NFPROTO_IPV6:
      return "ip6";
    case NFPROTO_ARP:
      return "arp";
    case NFPROTO_BRIDGE:
      return "bridge";
    case NFPROTO_NETDEV:
      return "netdev";
    default:
      return std::to_string(family);
  }
}

}  // namespace

std::string VerdictName(int verdict) {
  switch (verdict) {
    case NF_DROP:
      return "drop";
    case NF_ACCEPT:
      return "accept";
    case NF_STOLEN:
      return "stolen";
    case NF_QUEUE:
      return "queue";
    case NFT_CONTINUE:
      return "continue";
    case NFT_BREAK:
      return "break";
    case NFT_JUMP:
      return "jump";
    case NFT_GOTO:
      return "goto";
    case NFT_RETURN:
      return "return";
    default:
      return absl::StrCat("verdict ", verdict);
  }
}

absl::StatusOr<std::unique_ptr<NftraceSession>> NftraceSession::Start(
    int netns_fd, const std::string& tag, const std::vector<std::string>& matches) {
  UniqueFd netns(::fcntl(netns_fd, F_DUPFD_CLOEXEC, 0));
  if (!netns.valid()) {
    return ErrnoStatus("dup namespace fd", errno);
  }
  UniqueFd events;
  auto opened = netns::RunIn(netns_fd, [&] {
    events =
        UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER));
    if (!events.valid()) {
      return ErrnoStatus("open NETLINK_NETFILTER", errno);
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(events.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      return ErrnoStatus("bind NETLINK_NETFILTER", errno);
    }
    const int group = NFNLGRP_NFTRACE;
    if (::setsockopt(events.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) !=
        0) {
      return ErrnoStatus("join NFNLGRP_NFTRACE", errno);
    }
    const int size = 4 << 20;
    (void)::setsockopt(events.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
    return absl::OkStatus();
  });
  if (!opened.ok()) {
    return opened;
  }
  const std::string table = absl::StrCat("nslab_trace_", tag);
  std::string rules;
  for (const auto& match : matches) {
    absl::StrAppend(&rules, "    ", match, " meta nftrace set 1\n");
  }
  // Before raw (-300) and conntrack (-200): every later chain of every table is traced.
  const std::string ruleset = absl::StrCat(
      "table inet ", table, " {\n  chain pre {\n    type filter hook prerouting priority -400;\n",
      rules, "  }\n  chain out {\n    type filter hook output priority -400;\n", rules, "  }\n}\n");
  if (auto added = nft::RunCommands(netns_fd, ruleset); !added.ok()) {
    return added.status();
  }
  return std::unique_ptr<NftraceSession>(
      new NftraceSession(std::move(netns), std::move(events), table));
}

NftraceSession::~NftraceSession() {
  if (auto deleted = nft::RunCommands(netns_.get(), absl::StrCat("delete table inet ", table_));
      !deleted.ok()) {
    NSLAB_LOG(Warning) << "trace table " << table_ << " not removed: " << deleted.status();
  }
}

std::vector<TraceEvent> NftraceSession::Drain() {
  std::vector<TraceEvent> result;
  std::vector<char> buffer(1 << 16);
  while (true) {
    const ssize_t n = ::recv(events_.get(), buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      break;  // EAGAIN: nothing more (ENOBUFS: events were lost; keep what came)
    }
    int left = static_cast<int>(n);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(header, left);
         header = NLMSG_NEXT(header, left)) {
      if (header->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE)) {
        continue;
      }
      const auto* gen = static_cast<const nfgenmsg*>(NLMSG_DATA(header));
      TraceEvent event;
      event.family = FamilyName(gen->nfgen_family);
      ForEachAttribute(header, sizeof(nfgenmsg), [&](uint16_t type, const void* data, size_t len) {
        switch (type) {
          case NFTA_TRACE_TABLE:
            event.table = std::string(static_cast<const char*>(data),
                                      strnlen(static_cast<const char*>(data), len));
            break;
          case NFTA_TRACE_CHAIN:
            event.chain = std::string(static_cast<const char*>(data),
                                      strnlen(static_cast<const char*>(data), len));
            break;
          case NFTA_TRACE_RULE_HANDLE:
            event.handle = Be64(data);
            break;
          case NFTA_TRACE_TYPE:
            event.type = static_cast<int>(Be32(data));
            break;
          case NFTA_TRACE_ID:
            event.id = Be32(data);
            break;
          case NFTA_TRACE_POLICY:
            event.verdict = static_cast<int>(Be32(data));
            break;
          case NFTA_TRACE_NETWORK_HEADER:
            event.network_header.assign(static_cast<const char*>(data), len);
            break;
          case NFTA_TRACE_TRANSPORT_HEADER:
            event.transport_header.assign(static_cast<const char*>(data), len);
            break;
          case kNftaTraceCtDirection:
            if (len >= 1) {
              event.ct_direction = *static_cast<const uint8_t*>(data);
            }
            break;
          case NFTA_TRACE_VERDICT:
            ForEachNested(data, len, [&](uint16_t vtype, const void* vdata, size_t vlen) {
              if (vtype == NFTA_VERDICT_CODE) {
                event.verdict = static_cast<int>(Be32(vdata));
              } else if (vtype == NFTA_VERDICT_CHAIN) {
                event.verdict_chain = std::string(static_cast<const char*>(vdata),
                                                  strnlen(static_cast<const char*>(vdata), vlen));
              }
            });
            break;
          default:
            break;
        }
      });
      result.push_back(std::move(event));
    }
  }
  return result;
}

}  // namespace nslab::diag
