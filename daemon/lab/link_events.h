#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/common/fd.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::events {
class EventBus;
}  // namespace nslab::events

namespace nslab::lab {

// A node's namespace and which of its interfaces to follow.
struct WatchedNode {
  std::string node;
  std::string netns;
  std::vector<std::string> interfaces;  // empty: every interface but lo
  // Every followed interface is a bridge port (a switch's): its baseline is read from the
  // bridges' description of their ports, which, unlike a dump of the links, does not make the
  // kernel look up each veth peer's namespace among all the switch's peers.
  bool bridge_ports = false;
};

// Every node of `lab` with the interfaces its topology links end in.
std::vector<WatchedNode> WatchedNodesOf(const nslab::v1::Lab& lab);

// Announces LINK_STATE events ("client:eth0 down", "client:eth0 up") when an interface of a
// lab node goes down or up: administratively (IFF_UP) or by carrier (IFF_LOWER_UP), as the
// kernel announces it on RTNLGRP_LINK. One netlink socket in nslabd's own namespace hears
// every watched node (NETLINK_LISTEN_ALL_NSID): a node's namespace gets an id there when it
// is watched, and each announcement carries the id of the namespace it comes from. A socket
// per node would cost the kernel a walk of every such socket on each bind, close and
// announcement anywhere on the host: quadratic in a lab's nodes. One thread, woken by epoll.
// Thread-safe.
class LinkEvents {
 public:
  // Stops following one lab's nodes when destroyed. Must not outlive its LinkEvents.
  class LabWatch {
   public:
    ~LabWatch();
    LabWatch(const LabWatch&) = delete;
    LabWatch& operator=(const LabWatch&) = delete;

   private:
    friend class LinkEvents;
    LabWatch(LinkEvents* owner, uint64_t token, std::vector<int32_t> ids)
        : owner_(owner), token_(token), ids_(std::move(ids)) {}
    LinkEvents* owner_;
    const uint64_t token_;      // this watch's, on each node it follows
    std::vector<int32_t> ids_;  // the nodes' namespace ids
  };

  // Creates the socket and the epoll thread; `bus` receives the events and must outlive this.
  static absl::StatusOr<std::unique_ptr<LinkEvents>> Create(events::EventBus* bus);
  ~LinkEvents();
  LinkEvents(const LinkEvents&) = delete;
  LinkEvents& operator=(const LinkEvents&) = delete;

  // Follows `nodes` of `lab` from now on; the state each interface has now is the baseline,
  // not an event. An error (a namespace that cannot be opened) follows nothing.
  absl::StatusOr<std::unique_ptr<LabWatch>> Watch(const std::string& lab,
                                                  const std::vector<WatchedNode>& nodes);

 private:
  struct Node;
  LinkEvents(events::EventBus* bus, UniqueFd epoll, UniqueFd wake, UniqueFd socket);
  void Run();
  // Stops following the nodes `ids` that watch `token` follows (a newer watch of the same
  // namespaces, as an apply makes, keeps them).
  void Forget(uint64_t token, const std::vector<int32_t>& ids);
  // Reads what the kernel announced; publishes the changes.
  void Drain();
  // The kernel dropped announcements: reads every watched node's links again and publishes
  // the differences from what was seen last.
  void Resynchronize();
  // A LINK_STATE event: `change` is the interface ("node:eth0") and whether it is up.
  void Publish(const Node& node, const std::pair<std::string, bool>& change);

  events::EventBus* const bus_;
  const UniqueFd epoll_;
  const UniqueFd wake_;    // an eventfd: written once to stop the thread
  const UniqueFd socket_;  // RTNLGRP_LINK of every namespace with an id in nslabd's
  absl::Mutex mutex_;
  // By the namespace's id in nslabd's namespace.
  std::map<int32_t, std::unique_ptr<Node>> nodes_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_token_ ABSL_GUARDED_BY(mutex_) = 1;
  std::thread thread_;
};

// LINK_STATE events of every ready lab, by name: what LabRegistry keeps. Thread-safe.
class LabLinkWatches {
 public:
  // Null `bus`: follows nothing.
  explicit LabLinkWatches(events::EventBus* bus);
  ~LabLinkWatches();

  // Follows the lab's interfaces from now on (a failure is logged: events are not worth
  // failing a lab for).
  void Start(const nslab::v1::Lab& lab);
  void Stop(const std::string& lab);

 private:
  std::unique_ptr<LinkEvents> link_events_;  // outlives every watch below
  absl::Mutex mutex_;
  std::map<std::string, std::unique_ptr<LinkEvents::LabWatch>> watches_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::lab
