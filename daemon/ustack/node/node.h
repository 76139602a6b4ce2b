#pragma once

// The participant node at run time: the NIC over a FramePort (the TAP), the stack on it, the
// built-in services, and the one thread that runs them all (run()). Other threads reach the
// node only through post() and stop().

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/driver/event_notifier.h"
#include "daemon/ustack/driver/frame_port.h"
#include "daemon/ustack/driver/nic_settings.h"
#include "daemon/ustack/driver/virtio_net.h"
#include "daemon/ustack/net/stack.h"
#include "daemon/ustack/node/nic_link.h"

namespace nslab::ustack::node {

struct StaticRoute {
  net::Ipv4Cidr destination;
  packet::Ipv4Address gateway;
};

struct NodeConfig {
  net::InterfaceConfig interface;
  std::vector<StaticRoute> routes;
  driver::NicSettings nic;
  std::vector<apps::ServiceSpec> services;
};

struct NodeStats {
  driver::NicSettings nic_settings;
  driver::NicCounterValues nic;
  net::StackStats stack;
  std::vector<apps::ClientReport> clients;  // the built-in clients, in --service order
};

class Node {
 public:
  // Frames received per pass before timers and posted work get a turn (NAPI's weight).
  static constexpr std::size_t kRxBudget = 64;

  // `port` must outlive the node. Everything is checked and set up here; run() only runs.
  static absl::StatusOr<std::unique_ptr<Node>> create(const NodeConfig& config,
                                                      driver::FramePort& port);
  ~Node();

  // The node's thread: returns after stop().
  void run();
  // Any thread.
  void stop();
  // Runs `task` on the node's thread, between frames. Any thread. Tasks still queued when
  // run() returns are run then.
  void post(std::function<void()> task);

  // The node's thread only (from a posted task).
  NodeStats stats() const;
  absl::Status apply_nic(const driver::NicSettingsUpdate& update);

 private:
  Node(std::unique_ptr<driver::VirtioNet> nic, const net::InterfaceConfig& interface,
       driver::EventNotifier wake);
  void run_posted();
  // The stack's next timer or a service's (a client's connect), whichever is first.
  std::optional<net::Instant> next_deadline() const;

  std::unique_ptr<driver::VirtioNet> nic_;
  NicLink link_;
  net::Stack stack_;
  // After the stack: they go first, closing their sockets while the stack still runs.
  std::vector<std::unique_ptr<apps::RunningService>> services_;
  driver::EventNotifier wake_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by mutex_
  std::atomic<bool> stopping_{false};
};

}  // namespace nslab::ustack::node
