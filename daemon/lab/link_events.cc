#include "daemon/lab/link_events.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/common/log.h"
#include "daemon/common/parallel.h"
#include "daemon/common/status_macros.h"
#include "daemon/events/event_bus.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/names.h"

namespace nslab::lab {

struct LinkEvents::Node {
  std::string lab;
  WatchedNode node;
  uint64_t token = 0;  // the watch that follows it
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

  // Takes one RTM_NEWLINK or RTM_DELLINK of the node's namespace. Returns the interface
  // ("node:eth0") and its new state when that state changed; an interface seen the first
  // time is the baseline, not a change.
  std::optional<std::pair<std::string, bool>> Take(const nlmsghdr* header) {
    const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(header));
    if (header->nlmsg_type == RTM_DELLINK) {
      interfaces.erase(info->ifi_index);
      return std::nullopt;
    }
    std::string name;
    int attributes_len = static_cast<int>(IFLA_PAYLOAD(header));
    for (auto* attribute = IFLA_RTA(info); RTA_OK(attribute, attributes_len);
         attribute = RTA_NEXT(attribute, attributes_len)) {
      if (attribute->rta_type == IFLA_IFNAME) {
        name = static_cast<const char*>(RTA_DATA(attribute));
      }
    }
    if (name.empty() || !Follows(name)) {
      return std::nullopt;
    }
    const bool up = (info->ifi_flags & IFF_UP) != 0 && (info->ifi_flags & IFF_LOWER_UP) != 0;
    auto [it, first_seen] = interfaces.try_emplace(info->ifi_index, Interface{name, up});
    if (first_seen) {
      return std::nullopt;
    }
    it->second.name = name;
    if (it->second.up == up) {
      return std::nullopt;  // another attribute changed (mtu, address, statistics)
    }
    it->second.up = up;
    return std::make_pair(absl::StrCat(node.node, ":", name), up);
  }
};

namespace {

// Threads that give a big lab's namespaces their ids and read their links.
constexpr size_t kOpenWorkers = 4;
// Room for a burst of announcements (a lab's links flapping at once) between two reads.
constexpr int kEventBufferBytes = 8 << 20;

bool IsLinkMessage(const nlmsghdr* header) {
  return header->nlmsg_type == RTM_NEWLINK || header->nlmsg_type == RTM_DELLINK;
}

// A request built with libnl and sent on a plain socket: libnl has no RTM_NEWNSID, and its
// dump helper takes no attributes.
class Request {
 public:
  Request(int type, int flags, const void* header, size_t header_len)
      : message_(nlmsg_alloc_simple(type, flags)) {
    if (message_ == nullptr ||
        nlmsg_append(message_.get(), const_cast<void*>(header), header_len, NLMSG_ALIGNTO) < 0) {
      message_.reset();
    }
  }
  void Put(int type, const void* data, size_t len) {
    if (message_ != nullptr && nla_put(message_.get(), type, static_cast<int>(len), data) < 0) {
      message_.reset();
    }
  }
  // Null when the request could not be built (out of memory).
  nlmsghdr* header() const { return message_ ? nlmsg_hdr(message_.get()) : nullptr; }

 private:
  struct Free {
    void operator()(nl_msg* message) const { nlmsg_free(message); }
  };
  std::unique_ptr<nl_msg, Free> message_;
};

// A NETLINK_ROUTE socket in nslabd's own namespace for requests and their answers.
class Requester {
 public:
  static absl::StatusOr<Requester> Open() {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) {
      return ErrnoStatus("netlink socket for link events", errno);
    }
    return Requester(std::move(fd));
  }

  // A requester inside the namespace behind `netns_fd`: what it asks is that namespace's.
  static absl::StatusOr<Requester> OpenIn(int netns_fd) {
    absl::StatusOr<Requester> opened = absl::UnknownError("not opened");
    NSLAB_RETURN_IF_ERROR(netns::RunIn(netns_fd, [&] {
      opened = Open();
      return opened.status();
    }));
    return opened;
  }

  // The id nslabd's namespace has for the namespace behind `netns_fd`, given one if it has
  // none (as `ip netns set NAME auto` does).
  absl::StatusOr<int32_t> NamespaceId(int netns_fd, const std::string& netns) {
    const rtgenmsg family{.rtgen_family = AF_UNSPEC};
    const uint32_t fd = static_cast<uint32_t>(netns_fd);
    const int32_t any = -1;
    std::optional<int32_t> id;
    auto read_id = [&](const nlmsghdr* header) {
      if (header->nlmsg_type != RTM_NEWNSID) {
        return;
      }
      int len = static_cast<int>(NLMSG_PAYLOAD(header, sizeof(rtgenmsg)));
      for (auto* attribute = reinterpret_cast<const rtattr*>(
               static_cast<const char*>(NLMSG_DATA(header)) + NLMSG_ALIGN(sizeof(rtgenmsg)));
           RTA_OK(attribute, len); attribute = RTA_NEXT(attribute, len)) {
        if (attribute->rta_type == NETNSA_NSID) {
          std::memcpy(&id.emplace(), RTA_DATA(attribute), sizeof(int32_t));
        }
      }
    };
    // Echoed, the kernel's announcement of the new id comes back as the answer: each request
    // costs the kernel a scan of every id the namespace has given, so one is asked, not two.
    Request give(RTM_NEWNSID, NLM_F_ACK | NLM_F_ECHO, &family, sizeof(family));
    give.Put(NETNSA_FD, &fd, sizeof(fd));
    give.Put(NETNSA_NSID, &any, sizeof(any));
    auto status = Exchange(give, read_id);
    if (!status.ok() && !absl::IsAlreadyExists(status)) {
      return absl::Status(status.code(),
                          absl::StrCat("give namespace ", netns, " an id: ", status.message()));
    }
    if (absl::IsAlreadyExists(status)) {  // it has one already (a lab nslabd took up again)
      Request ask(RTM_GETNSID, 0, &family, sizeof(family));
      ask.Put(NETNSA_FD, &fd, sizeof(fd));
      status = Exchange(ask, read_id);
    }
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("read namespace ", netns, "'s id: ", status.message()));
    }
    if (!id.has_value() || *id < 0) {
      return absl::InternalError(absl::StrCat("namespace ", netns, " has no id after getting one"));
    }
    return *id;
  }

  // Every link of the requester's namespace, or with `nsid` of the namespace with that id,
  // each handed to `each`; with `family` AF_BRIDGE, every bridge port as its bridge
  // describes it (no `nsid` then).
  absl::Status DumpLinks(std::optional<int32_t> nsid,
                         const std::function<void(const nlmsghdr*)>& each,
                         unsigned char family = AF_UNSPEC) {
    ifinfomsg info{};
    info.ifi_family = family;
    Request dump(RTM_GETLINK, NLM_F_DUMP, &info, sizeof(info));
    if (nsid.has_value()) {
      dump.Put(IFLA_TARGET_NETNSID, &*nsid, sizeof(*nsid));
    }
    return Exchange(dump, [&](const nlmsghdr* header) {
      if (IsLinkMessage(header)) {
        each(header);
      }
    });
  }

 private:
  explicit Requester(UniqueFd fd) : fd_(std::move(fd)) {}

  // Sends `request` and reads its answer to the end: the ACK, or a dump's NLMSG_DONE, or
  // the one reply of a plain request; each message but those goes to `each`.
  absl::Status Exchange(const Request& request, const std::function<void(const nlmsghdr*)>& each) {
    nlmsghdr* message = request.header();
    if (message == nullptr) {
      return absl::ResourceExhaustedError("building a netlink request failed");
    }
    message->nlmsg_flags |= NLM_F_REQUEST;
    message->nlmsg_seq = ++sequence_;
    if (::send(fd_.get(), message, message->nlmsg_len, 0) < 0) {
      return ErrnoStatus("netlink send", errno);
    }
    const bool dump = (message->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    const bool acked = (message->nlmsg_flags & NLM_F_ACK) != 0;
    alignas(nlmsghdr) static thread_local char buffer[1 << 16];
    while (true) {
      const ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
      if (got < 0) {
        if (errno == EINTR) {
          continue;
        }
        return ErrnoStatus("netlink receive", errno);
      }
      int len = static_cast<int>(got);
      for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, len);
           header = NLMSG_NEXT(header, len)) {
        if (header->nlmsg_seq != sequence_) {
          continue;
        }
        if (header->nlmsg_type == NLMSG_DONE) {
          return absl::OkStatus();
        }
        if (header->nlmsg_type == NLMSG_ERROR) {
          const int error = -static_cast<const nlmsgerr*>(NLMSG_DATA(header))->error;
          if (error == 0) {
            return absl::OkStatus();
          }
          return error == EEXIST ? absl::AlreadyExistsError(std::strerror(error))
                                 : ErrnoStatus("netlink request", error);
        }
        if (each) {
          each(header);
        }
        if (!dump && !acked) {
          return absl::OkStatus();  // the one reply
        }
      }
    }
  }

  UniqueFd fd_;
  uint32_t sequence_ = 0;
};

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
                                .interfaces = std::move(found->second),
                                .bridge_ports = node.kind() == nslab::v1::NODE_KIND_SWITCH});
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
  UniqueFd socket(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  if (!socket.valid()) {
    return ErrnoStatus("netlink socket for link events", errno);
  }
  const int on = 1;
  if (::setsockopt(socket.get(), SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, &on, sizeof(on)) != 0) {
    return ErrnoStatus("NETLINK_LISTEN_ALL_NSID", errno);
  }
  // Root may go past net.core.rmem_max; where it may not, the default buffer still works and
  // an overflow is caught up with (Resynchronize).
  if (::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kEventBufferBytes,
                   sizeof(kEventBufferBytes)) != 0) {
    (void)::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &kEventBufferBytes,
                       sizeof(kEventBufferBytes));
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_LINK;
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoStatus("join RTNLGRP_LINK", errno);
  }
  for (const auto& [fd, id] : {std::pair{wake.get(), 0}, std::pair{socket.get(), 1}}) {
    epoll_event event{.events = EPOLLIN, .data = {.u64 = static_cast<uint64_t>(id)}};
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      return ErrnoStatus("epoll_ctl add for link events", errno);
    }
  }
  return std::unique_ptr<LinkEvents>(
      new LinkEvents(bus, std::move(epoll), std::move(wake), std::move(socket)));
}

LinkEvents::LinkEvents(events::EventBus* bus, UniqueFd epoll, UniqueFd wake, UniqueFd socket)
    : bus_(bus), epoll_(std::move(epoll)), wake_(std::move(wake)), socket_(std::move(socket)) {
  thread_ = std::thread([this] { Run(); });
}

LinkEvents::~LinkEvents() {
  const uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

absl::StatusOr<std::unique_ptr<LinkEvents::LabWatch>> LinkEvents::Watch(
    const std::string& lab, const std::vector<WatchedNode>& nodes) {
  // In parallel: two requests per node, answered by the kernel under its locks.
  std::vector<std::unique_ptr<Node>> opened(nodes.size());
  std::vector<int32_t> ids(nodes.size(), -1);
  auto status = ParallelFor(nodes.size(), kOpenWorkers, [&](size_t i) -> absl::Status {
    const WatchedNode& watched = nodes[i];
    NSLAB_ASSIGN_OR_RETURN(auto netns, netns::Open(watched.netns));
    NSLAB_ASSIGN_OR_RETURN(auto requester, Requester::Open());
    NSLAB_ASSIGN_OR_RETURN(ids[i], requester.NamespaceId(netns.get(), watched.netns));
    auto node = std::make_unique<Node>(Node{.lab = lab, .node = watched, .interfaces = {}});
    // The state now is the baseline: every interface read here is seen for the first time.
    // Read from inside the namespace: a dump asked from nslabd's would make the kernel find
    // each veth's peer namespace among all the ids nslabd's namespace has given.
    NSLAB_ASSIGN_OR_RETURN(auto inside, Requester::OpenIn(netns.get()));
    NSLAB_RETURN_IF_ERROR(inside.DumpLinks(
        std::nullopt, [&](const nlmsghdr* header) { (void)node->Take(header); },
        watched.bridge_ports ? AF_BRIDGE : AF_UNSPEC));
    opened[i] = std::move(node);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  absl::MutexLock lock(&mutex_);
  const uint64_t token = next_token_++;
  for (size_t i = 0; i < opened.size(); ++i) {
    opened[i]->token = token;
    nodes_[ids[i]] = std::move(opened[i]);
  }
  return std::unique_ptr<LabWatch>(new LabWatch(this, token, std::move(ids)));
}

LinkEvents::LabWatch::~LabWatch() { owner_->Forget(token_, ids_); }

void LinkEvents::Forget(uint64_t token, const std::vector<int32_t>& ids) {
  absl::MutexLock lock(&mutex_);
  for (int32_t id : ids) {
    if (auto it = nodes_.find(id); it != nodes_.end() && it->second->token == token) {
      nodes_.erase(it);
    }
  }
}

void LinkEvents::Run() {
  epoll_event ready[2];
  while (true) {
    const int count = ::epoll_wait(epoll_.get(), ready, 2, -1);
    if (count < 0) {
      continue;  // EINTR
    }
    for (int i = 0; i < count; ++i) {
      if (ready[i].data.u64 == 0) {
        return;  // the destructor's wake-up
      }
      Drain();
    }
  }
}

void LinkEvents::Drain() {
  alignas(nlmsghdr) static char buffer[1 << 16];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int32_t))];
  while (true) {
    iovec io{.iov_base = buffer, .iov_len = sizeof(buffer)};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t got = ::recvmsg(socket_.get(), &message, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == ENOBUFS) {
        Resynchronize();
        continue;
      }
      return;  // EAGAIN: all read
    }
    // Announcements from nslabd's own namespace carry no id: no lab node is there.
    std::optional<int32_t> nsid;
    for (cmsghdr* part = CMSG_FIRSTHDR(&message); part != nullptr;
         part = CMSG_NXTHDR(&message, part)) {
      if (part->cmsg_level == SOL_NETLINK && part->cmsg_type == NETLINK_LISTEN_ALL_NSID) {
        std::memcpy(&nsid.emplace(), CMSG_DATA(part), sizeof(int32_t));
      }
    }
    if (!nsid.has_value()) {
      continue;
    }
    absl::MutexLock lock(&mutex_);
    auto found = nodes_.find(*nsid);
    if (found == nodes_.end()) {
      continue;  // a namespace nobody watches
    }
    Node& node = *found->second;
    int len = static_cast<int>(got);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, len);
         header = NLMSG_NEXT(header, len)) {
      if (!IsLinkMessage(header)) {
        continue;
      }
      if (auto change = node.Take(header)) {
        Publish(node, *change);
      }
    }
  }
}

void LinkEvents::Publish(const Node& node, const std::pair<std::string, bool>& change) {
  bus_->Publish(node.lab, nslab::v1::LAB_EVENT_KIND_LINK_STATE, node.node.node, change.first,
                absl::StrCat(change.first, change.second ? " up" : " down"));
}

void LinkEvents::Resynchronize() {
  auto requester = Requester::Open();
  if (!requester.ok()) {
    NSLAB_LOG(Warning) << "link events were dropped and cannot be read again: "
                       << requester.status().message();
    return;
  }
  absl::MutexLock lock(&mutex_);
  for (auto& [id, node] : nodes_) {
    Node* watched = node.get();
    (void)requester->DumpLinks(id, [&](const nlmsghdr* header) {
      if (auto change = watched->Take(header)) {
        Publish(*watched, *change);
      }
    });
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
