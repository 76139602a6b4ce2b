#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
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
};

// Every node of `lab` with the interfaces its topology links end in.
std::vector<WatchedNode> WatchedNodesOf(const nslab::v1::Lab& lab);

// Announces LINK_STATE events ("client:eth0 down", "client:eth0 up") when an interface of a
// lab node goes down or up: administratively (IFF_UP) or by carrier (IFF_LOWER_UP), as the
// kernel announces it on RTNLGRP_LINK. One netlink socket per node, opened inside its
// namespace; one thread for all of them, woken by epoll. Thread-safe.
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
    LabWatch(LinkEvents* owner, std::vector<uint64_t> ids) : owner_(owner), ids_(std::move(ids)) {}
    LinkEvents* owner_;
    std::vector<uint64_t> ids_;
  };

  // Creates the epoll thread; `bus` receives the events and must outlive this.
  static absl::StatusOr<std::unique_ptr<LinkEvents>> Create(events::EventBus* bus);
  ~LinkEvents();
  LinkEvents(const LinkEvents&) = delete;
  LinkEvents& operator=(const LinkEvents&) = delete;

  // Follows `nodes` of `lab` from now on; the state each interface has now is the baseline,
  // not an event. An error (a namespace that cannot be opened) follows nothing.
  absl::StatusOr<std::unique_ptr<LabWatch>> Watch(const std::string& lab,
                                                  const std::vector<WatchedNode>& nodes);

 private:
  struct NodeSocket;
  LinkEvents(events::EventBus* bus, UniqueFd epoll, UniqueFd wake);
  void Run();
  void Forget(const std::vector<uint64_t>& ids);
  void ForgetLocked(const std::vector<uint64_t>& ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Reads what the kernel announced on `socket`; publishes the changes.
  void Drain(NodeSocket* socket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  events::EventBus* const bus_;
  const UniqueFd epoll_;
  const UniqueFd wake_;  // an eventfd: written once to stop the thread
  absl::Mutex mutex_;
  uint64_t next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  std::map<uint64_t, std::unique_ptr<NodeSocket>> sockets_ ABSL_GUARDED_BY(mutex_);
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
