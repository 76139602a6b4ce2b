#include "daemon/lab/link_events.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/log.h"
#include "daemon/common/parallel.h"
#include "daemon/events/event_bus.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/names.h"

namespace nslab::lab {

struct LinkEvents::NodeSocket {
  std::string lab;
  WatchedNode node;
  netlink::RouteSocket socket;
  struct Interface {
    std::string name;
    bool up = false;
  };
  std::map<int, Interface> interfaces;  // by ifindex: the last state seen

  bool Follows(const std::string& name) const {
    if (node.interfaces.empty()) {
      return name != "lo";
    }
    return std::find(node.interfaces.begin(), node.interfaces.end(), name) != node.interfaces.end();
  }
};

namespace {

// Threads that open a big lab's link sockets, each in its node's namespace.
constexpr size_t kOpenWorkers = 4;

// Asks for every link's state now: the baseline, or a resynchronisation after the kernel
// dropped announcements (the replies arrive like announcements and are handled alike).
absl::Status RequestLinkDump(nl_sock* socket) {
  return netlink::NlStatus("request the link list",
                           nl_rtgen_request(socket, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP));
}

}  // namespace

std::vector<WatchedNode> WatchedNodesOf(const nslab::v1::Lab& lab) {
  // One pass over the links: asking every link of every node was quadratic, seconds at 10,000.
  absl::flat_hash_map<std::string, std::vector<std::string>> interfaces;
  for (const auto& link : lab.topology().links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      interfaces[end->node()].push_back(end->interface());
    }
  }
  std::vector<WatchedNode> nodes;
  for (const auto& node : lab.topology().nodes()) {
    auto found = interfaces.find(node.name());
    // A node without links has nothing to follow (and an empty list would mean "all").
    if (found == interfaces.end()) {
      continue;
    }
    nodes.push_back(WatchedNode{.node = node.name(),
                                .netns = topology::NamespaceOf(lab.name(), node.name()),
                                .interfaces = std::move(found->second)});
  }
  return nodes;
}

absl::StatusOr<std::unique_ptr<LinkEvents>> LinkEvents::Create(events::EventBus* bus) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) {
    return ErrnoStatus("epoll_create1 for link events", errno);
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return ErrnoStatus("eventfd for link events", errno);
  }
  epoll_event event{.events = EPOLLIN, .data = {.u64 = 0}};
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &event) != 0) {
    return ErrnoStatus("epoll_ctl add eventfd", errno);
  }
  return std::unique_ptr<LinkEvents>(new LinkEvents(bus, std::move(epoll), std::move(wake)));
}

LinkEvents::LinkEvents(events::EventBus* bus, UniqueFd epoll, UniqueFd wake)
    : bus_(bus), epoll_(std::move(epoll)), wake_(std::move(wake)) {
  thread_ = std::thread([this] { Run(); });
}

LinkEvents::~LinkEvents() {
  const uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

absl::StatusOr<std::unique_ptr<LinkEvents::LabWatch>> LinkEvents::Watch(
    const std::string& lab, const std::vector<WatchedNode>& nodes) {
  // In parallel: each socket is opened inside its namespace on a thread of its own, about a
  // quarter of a millisecond apiece, which a lab of thousands of nodes waited for in turn.
  std::vector<std::unique_ptr<NodeSocket>> opened(nodes.size());
  auto status = ParallelFor(nodes.size(), kOpenWorkers, [&](size_t i) -> absl::Status {
    const WatchedNode& node = nodes[i];
    auto netns = netns::Open(node.netns);
    if (!netns.ok()) {
      return netns.status();
    }
    auto socket = netlink::RouteSocket::OpenIn(netns->get());
    if (!socket.ok()) {
      return socket.status();
    }
    nl_sock* sock = socket->get();
    if (auto status = netlink::NlStatus(absl::StrCat("join RTNLGRP_LINK in ", node.netns),
                                        nl_socket_add_membership(sock, RTNLGRP_LINK));
        !status.ok()) {
      return status;
    }
    nl_socket_disable_seq_check(sock);
    if (auto status =
            netlink::NlStatus("non-blocking netlink socket", nl_socket_set_nonblocking(sock));
        !status.ok()) {
      return status;
    }
    // Subscribed first, then asked: no change between the two is missed.
    if (auto status = RequestLinkDump(sock); !status.ok()) {
      return status;
    }
    opened[i] = std::make_unique<NodeSocket>(
        NodeSocket{.lab = lab, .node = node, .socket = std::move(*socket), .interfaces = {}});
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  std::vector<uint64_t> ids;
  absl::MutexLock lock(&mutex_);
  for (auto& socket : opened) {
    const uint64_t id = next_id_++;
    epoll_event event{.events = EPOLLIN, .data = {.u64 = id}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, nl_socket_get_fd(socket->socket.get()), &event) !=
        0) {
      const int error = errno;
      ForgetLocked(ids);
      return ErrnoStatus(absl::StrCat("epoll_ctl add the link socket of ", socket->node.netns),
                         error);
    }
    ids.push_back(id);
    sockets_.emplace(id, std::move(socket));
  }
  return std::unique_ptr<LabWatch>(new LabWatch(this, std::move(ids)));
}

LinkEvents::LabWatch::~LabWatch() { owner_->Forget(ids_); }

void LinkEvents::Forget(const std::vector<uint64_t>& ids) {
  // Under the lock the thread reads sockets with: none is closed while it drains it.
  absl::MutexLock lock(&mutex_);
  ForgetLocked(ids);
}

void LinkEvents::ForgetLocked(const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) {
      continue;
    }
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, nl_socket_get_fd(it->second->socket.get()),
                      nullptr);
    sockets_.erase(it);
  }
}

void LinkEvents::Run() {
  epoll_event ready[32];
  while (true) {
    const int count = ::epoll_wait(epoll_.get(), ready, 32, -1);
    if (count < 0) {
      continue;  // EINTR
    }
    absl::MutexLock lock(&mutex_);
    for (int i = 0; i < count; ++i) {
      if (ready[i].data.u64 == 0) {
        return;  // the destructor's wake-up
      }
      // Forgotten since epoll_wait returned: nothing to read.
      if (auto it = sockets_.find(ready[i].data.u64); it != sockets_.end()) {
        Drain(it->second.get());
      }
    }
  }
}

void LinkEvents::Drain(NodeSocket* socket) {
  const int fd = nl_socket_get_fd(socket->socket.get());
  alignas(nlmsghdr) char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == ENOBUFS) {
        // The kernel dropped announcements: ask for every state again and report the
        // differences from what was seen last.
        (void)RequestLinkDump(socket->socket.get());
        continue;
      }
      return;  // EAGAIN: all read
    }
    int len = static_cast<int>(got);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, len);
         header = NLMSG_NEXT(header, len)) {
      if (header->nlmsg_type != RTM_NEWLINK && header->nlmsg_type != RTM_DELLINK) {
        continue;
      }
      const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(header));
      if (header->nlmsg_type == RTM_DELLINK) {
        socket->interfaces.erase(info->ifi_index);
        continue;
      }
      std::string name;
      int attributes_len = static_cast<int>(IFLA_PAYLOAD(header));
      for (auto* attribute = IFLA_RTA(info); RTA_OK(attribute, attributes_len);
           attribute = RTA_NEXT(attribute, attributes_len)) {
        if (attribute->rta_type == IFLA_IFNAME) {
          name = static_cast<const char*>(RTA_DATA(attribute));
        }
      }
      if (name.empty() || !socket->Follows(name)) {
        continue;
      }
      const bool up = (info->ifi_flags & IFF_UP) != 0 && (info->ifi_flags & IFF_LOWER_UP) != 0;
      auto [it, first_seen] =
          socket->interfaces.try_emplace(info->ifi_index, NodeSocket::Interface{name, up});
      if (first_seen) {
        continue;  // the baseline
      }
      it->second.name = name;
      if (it->second.up == up) {
        continue;  // another attribute changed (mtu, address, statistics)
      }
      it->second.up = up;
      const std::string end = absl::StrCat(socket->node.node, ":", name);
      bus_->Publish(socket->lab, nslab::v1::LAB_EVENT_KIND_LINK_STATE, socket->node.node, end,
                    absl::StrCat(end, up ? " up" : " down"));
    }
  }
}

LabLinkWatches::LabLinkWatches(events::EventBus* bus) {
  if (bus == nullptr) {
    return;
  }
  auto link_events = LinkEvents::Create(bus);
  if (link_events.ok()) {
    link_events_ = std::move(*link_events);
  } else {
    NSLAB_LOG(Warning) << "no LINK_STATE events: " << link_events.status().message();
  }
}

LabLinkWatches::~LabLinkWatches() {
  absl::MutexLock lock(&mutex_);
  watches_.clear();
}

void LabLinkWatches::Start(const nslab::v1::Lab& lab) {
  if (link_events_ == nullptr) {
    return;
  }
  auto watch = link_events_->Watch(lab.name(), WatchedNodesOf(lab));
  if (!watch.ok()) {
    NSLAB_LOG(Warning) << "lab " << lab.name()
                       << ": no LINK_STATE events: " << watch.status().message();
    return;
  }
  absl::MutexLock lock(&mutex_);
  watches_[lab.name()] = std::move(*watch);
}

void LabLinkWatches::Stop(const std::string& lab) {
  std::unique_ptr<LinkEvents::LabWatch> watch;  // released after the lock
  absl::MutexLock lock(&mutex_);
  if (auto it = watches_.find(lab); it != watches_.end()) {
    watch = std::move(it->second);
    watches_.erase(it);
  }
}

}  // namespace nslab::lab
