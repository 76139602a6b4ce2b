#include "daemon/lab/node_handles.h"

#include "daemon/netns/netns.h"

namespace nslab::lab {

NodeHandles::NodeHandles(std::vector<std::string> namespaces, size_t window)
    : namespaces_(std::move(namespaces)), window_(window == 0 ? 1 : window) {}

absl::StatusOr<std::shared_ptr<NodeHandle>> NodeHandles::Get(size_t node) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = kept_.find(node); it != kept_.end()) {
      recent_.splice(recent_.begin(), recent_, it->second.position);
      return it->second.handle;
    }
  }
  // Opened without the lock: entering a namespace takes a thread, and other nodes' users
  // need not wait for it.
  auto netns_fd = netns::Open(namespaces_.at(node));
  if (!netns_fd.ok()) {
    return netns_fd.status();
  }
  auto socket = netlink::RouteSocket::OpenIn(netns_fd->get());
  if (!socket.ok()) {
    return socket.status();
  }
  return Put(node, std::make_shared<NodeHandle>(std::move(*netns_fd), std::move(*socket)));
}

std::shared_ptr<NodeHandle> NodeHandles::Put(size_t node, std::shared_ptr<NodeHandle> handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++opened_;
  return KeepLocked(node, std::move(handle));
}

std::shared_ptr<NodeHandle> NodeHandles::KeepLocked(size_t node,
                                                    std::shared_ptr<NodeHandle> handle) {
  if (auto it = kept_.find(node); it != kept_.end()) {
    // Another worker opened the node meanwhile: everyone shares the kept one (and its
    // mutex); this one closes when the caller drops it.
    recent_.splice(recent_.begin(), recent_, it->second.position);
    return it->second.handle;
  }
  recent_.push_front(node);
  kept_.emplace(node, Kept{handle, recent_.begin()});
  while (kept_.size() > window_) {
    kept_.erase(recent_.back());
    recent_.pop_back();
  }
  return handle;
}

void NodeHandles::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  kept_.clear();
  recent_.clear();
}

size_t NodeHandles::opened() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return opened_;
}

}  // namespace nslab::lab
