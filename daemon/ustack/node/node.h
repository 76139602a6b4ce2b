#pragma once

// The participant node at run time: the NIC over a FramePort (the TAP), the stack on it, the
// built-in services, and the one thread that runs them all (run()). Other threads reach the
// node only through post() and stop().

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/driver/event_notifier.h"
#include "daemon/ustack/driver/frame_port.h"
#include "daemon/ustack/driver/nic_settings.h"
#include "daemon/ustack/driver/virtio_net.h"
#include "daemon/ustack/net/stack.h"
#include "daemon/ustack/node/nic_link.h"
#include "daemon/ustack/node/service_time.h"

namespace nslab::ustack::node {

struct StaticRoute {
  net::Ipv4Cidr destination;
  packet::Ipv4Address gateway;
};

// A fault in force on the service with `port` (apps/fault.h).
struct PortFault {
  std::uint16_t port = 0;
  apps::FaultSpec fault;

  bool operator==(const PortFault&) const = default;
};

struct NodeConfig {
  net::InterfaceConfig interface;
  std::vector<StaticRoute> routes;
  driver::NicSettings nic;
  std::vector<apps::ServiceSpec> services;
  // Set on the services as they start, as set_fault would; each port must be a TCP service's.
  std::vector<PortFault> faults;
};

struct NodeStats {
  driver::NicSettings nic_settings;
  driver::NicCounterValues nic;
  net::StackStats stack;
  std::vector<apps::ClientReport> clients;  // the built-in clients, in --service order
  ServiceTimes service_times;
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
  // Sets (kNone: clears) the fault of the TCP service on `port`: a server listening on it, or a
  // client connecting to it (its remote port; several clients to one port all take it). Which
  // connections a change reaches: apps/fault.h. NOT_FOUND when no TCP service has that port.
  absl::Status set_fault(std::uint16_t port, const apps::FaultSpec& fault);
  // The faults in force (kNone left out), by port, ascending.
  std::vector<PortFault> faults() const;

 private:
  Node(std::unique_ptr<driver::VirtioNet> nic, const net::InterfaceConfig& interface,
       driver::EventNotifier wake);
  void run_posted();
  // The stack's next timer or a service's (a client's connect), whichever is first.
  std::optional<net::Instant> next_deadline() const;
  // What the stack had done before a turn began, to tell what the turn answered.
  struct TurnMarks {
    std::uint64_t passive_opens = 0;
    std::uint64_t data_segments_in = 0;
    std::uint64_t data_segments_out = 0;
  };
  TurnMarks turn_marks();
  // A turn that received frames: into the histograms of what it answered.
  void record_turn(const TurnMarks& before, net::Instant frames_taken);

  std::unique_ptr<driver::VirtioNet> nic_;
  NicLink link_;
  net::Stack stack_;
  // After the stack: they go first, closing their sockets while the stack still runs.
  std::vector<std::unique_ptr<apps::RunningService>> services_;
  std::vector<apps::ServiceSpec> service_specs_;  // services_[i] runs service_specs_[i]
  driver::EventNotifier wake_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by mutex_
  std::atomic<bool> stopping_{false};
  ServiceTimes service_times_;
};

}  // namespace nslab::ustack::node
