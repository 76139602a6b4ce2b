#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"
#include "daemon/netlink/route_socket.h"

namespace nslab::lab {

// What the builder works on a node with: its namespace (for setns and for moving links in)
// and a netlink socket opened inside it.
struct NodeHandle {
  UniqueFd netns;
  netlink::RouteSocket socket;
  std::mutex mutex;  // one user of `socket` at a time

  NodeHandle(UniqueFd netns_fd, netlink::RouteSocket sock)
      : netns(std::move(netns_fd)), socket(std::move(sock)) {}
};

// The open handles of a lab's nodes while it is built, at most `window` of them kept
// between uses (the most recently used), so that a lab of 10,000 nodes holds about as many
// fds as one of 100. A handle in use stays open until its last user drops it, so workers
// add at most two each beyond the window. Thread-safe.
class NodeHandles {
 public:
  // `namespaces` are the node namespaces' names, by node index.
  NodeHandles(std::vector<std::string> namespaces, size_t window);

  // The node's handle, opened if none is kept.
  absl::StatusOr<std::shared_ptr<NodeHandle>> Get(size_t node);
  // Keeps a handle opened elsewhere (from inside a new namespace) as the node's.
  std::shared_ptr<NodeHandle> Put(size_t node, std::shared_ptr<NodeHandle> handle);
  // Closes every kept handle.
  void Clear();

  // How many handles were opened in all (to see the window work).
  size_t opened() const;

 private:
  std::shared_ptr<NodeHandle> KeepLocked(size_t node, std::shared_ptr<NodeHandle> handle);

  const std::vector<std::string> namespaces_;
  const size_t window_;
  mutable std::mutex mutex_;
  // Most recently used first.
  std::list<size_t> recent_;
  struct Kept {
    std::shared_ptr<NodeHandle> handle;
    std::list<size_t>::iterator position;
  };
  std::unordered_map<size_t, Kept> kept_;
  size_t opened_ = 0;
};

}  // namespace nslab::lab
