#include "daemon/diag/conntrack.h"

#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

struct SockFree {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct CacheFree {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};

std::string Addr(nl_addr* addr) {
  if (addr == nullptr) {
    return "";
  }
  char buf[128];
  return nl_addr2str(addr, buf, sizeof(buf));
}

std::string ProtocolName(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    case IPPROTO_SCTP:
      return "sctp";
    default:
      return std::to_string(proto);
  }
}

void FillTuple(const nfnl_ct* ct, int repl, bool ports, nslab::v1::ConntrackTuple* out) {
  out->set_source(Addr(nfnl_ct_get_src(ct, repl)));
  out->set_destination(Addr(nfnl_ct_get_dst(ct, repl)));
  if (ports) {
    out->set_source_port(nfnl_ct_get_src_port(ct, repl));
    out->set_destination_port(nfnl_ct_get_dst_port(ct, repl));
  }
  if (nfnl_ct_test_packets(ct, repl)) {
    out->set_packets(nfnl_ct_get_packets(ct, repl));
    out->set_bytes(nfnl_ct_get_bytes(ct, repl));
  }
}

std::string TupleText(const nslab::v1::ConntrackTuple& tuple, bool ports) {
  std::string text = absl::StrCat("src=", tuple.source(), " dst=", tuple.destination());
  if (ports) {
    absl::StrAppend(&text, " sport=", tuple.source_port(), " dport=", tuple.destination_port());
  }
  if (tuple.packets() != 0) {
    absl::StrAppend(&text, " packets=", tuple.packets(), " bytes=", tuple.bytes());
  }
  return text;
}

}  // namespace

absl::StatusOr<nslab::v1::ConntrackResponse> ListConntrack(int netns_fd) {
  std::unique_ptr<nl_sock, SockFree> sock;
  auto opened = netns::RunIn(netns_fd, [&] {
    sock.reset(nl_socket_alloc());
    if (!sock) {
      return absl::ResourceExhaustedError("nl_socket_alloc failed");
    }
    return netlink::NlStatus("connect NETLINK_NETFILTER", nfnl_connect(sock.get()));
  });
  if (!opened.ok()) {
    return opened;
  }
  nl_socket_set_buffer_size(sock.get(), 1 << 20, 1 << 20);
  nl_cache* raw = nullptr;
  nslab::v1::ConntrackResponse table;
  if (int err = nfnl_ct_alloc_cache(sock.get(), &raw); err < 0) {
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_OPNOTSUPP || err == -NLE_PROTO_MISMATCH) {
      table.set_note(absl::StrCat("no connection tracking in this node (", nl_geterror(err),
                                  "): nothing has loaded a stateful rule or NAT yet"));
      return table;
    }
    return netlink::NlStatus("dump conntrack", err);
  }
  std::unique_ptr<nl_cache, CacheFree> cache(raw);
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* ct = reinterpret_cast<nfnl_ct*>(obj);
    auto* out = table.add_entries();
    const uint8_t proto = nfnl_ct_get_proto(ct);
    const bool ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
    out->set_family(nfnl_ct_get_family(ct) == AF_INET6 ? "inet6" : "inet");
    out->set_protocol(ProtocolName(proto));
    char buf[256];
    if (proto == IPPROTO_TCP && nfnl_ct_test_tcp_state(ct)) {
      std::string state = nfnl_ct_tcp_state2str(nfnl_ct_get_tcp_state(ct), buf, sizeof(buf));
      out->set_tcp_state(absl::AsciiStrToUpper(state));
    }
    out->set_timeout(nfnl_ct_get_timeout(ct));
    out->set_mark(nfnl_ct_get_mark(ct));
    FillTuple(ct, 0, ports, out->mutable_original());
    FillTuple(ct, 1, ports, out->mutable_reply());
    nfnl_ct_status2str(static_cast<int>(nfnl_ct_get_status(ct)), buf, sizeof(buf));
    for (absl::string_view flag : absl::StrSplit(buf, ',', absl::SkipEmpty())) {
      out->add_status(absl::AsciiStrToUpper(absl::StripAsciiWhitespace(flag)));
    }
    std::string text = absl::StrCat(out->protocol(), " ", out->timeout(), " ");
    if (!out->tcp_state().empty()) {
      absl::StrAppend(&text, out->tcp_state(), " ");
    }
    absl::StrAppend(&text, TupleText(out->original(), ports));
    bool replied = false;
    for (const auto& flag : out->status()) {
      replied = replied || flag == "SEEN_REPLY";
    }
    if (!replied) {
      absl::StrAppend(&text, " [UNREPLIED]");
    }
    absl::StrAppend(&text, " ", TupleText(out->reply(), ports));
    for (const auto& flag : out->status()) {
      if (flag == "ASSURED") {
        absl::StrAppend(&text, " [ASSURED]");
      }
    }
    absl::StrAppend(&text, " mark=", out->mark());
    out->set_text(text);
  }
  return table;
}

}  // namespace nslab::diag
