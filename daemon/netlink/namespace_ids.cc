#include "daemon/netlink/namespace_ids.h"

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace nslab::netlink {

absl::Status SetPeerNamespaceId(const RouteSocket& sock, int peer_netns_fd, int32_t id) {
  struct Free {
    void operator()(nl_msg* msg) const { nlmsg_free(msg); }
  };
  std::unique_ptr<nl_msg, Free> msg(nlmsg_alloc_simple(RTM_NEWNSID, 0));
  rtgenmsg family{.rtgen_family = AF_UNSPEC};
  if (msg == nullptr || nlmsg_append(msg.get(), &family, sizeof(family), NLMSG_ALIGNTO) < 0 ||
      nla_put_u32(msg.get(), NETNSA_FD, static_cast<uint32_t>(peer_netns_fd)) < 0 ||
      nla_put_s32(msg.get(), NETNSA_NSID, id) < 0) {
    return absl::ResourceExhaustedError("building an RTM_NEWNSID request");
  }
  return NlStatus(absl::StrCat("give a peer namespace the id ", id),
                  SendAndWaitForAck(sock, msg.get()));
}

}  // namespace nslab::netlink
