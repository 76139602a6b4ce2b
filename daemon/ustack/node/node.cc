#include "daemon/ustack/node/node.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "daemon/ustack/packet/ethernet.h"

namespace nslab::ustack::node {
namespace {

// An Ethernet header and an 802.1Q tag around the MTU.
constexpr std::size_t kFrameOverhead = packet::EthernetView<packet::ConstBytes>::kHeaderLen + 4;

// RFC 6528: the ISN hash key is secret and differs per node (and per run).
tcp::TcpConfig tcp_config() {
  tcp::TcpConfig config;
  std::random_device random;
  config.isn_secret = std::uint64_t{random()} << 32 | random();
  return config;
}

int poll_timeout_ms(std::optional<net::Instant> deadline, net::Instant now) {
  if (!deadline) {
    return -1;
  }
  if (*deadline <= now) {
    return 0;
  }
  // Rounded up: waking a little late is harmless, waking early spins.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
  return static_cast<int>(std::min<long long>(ms, 60'000));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::create(const NodeConfig& config,
                                                   driver::FramePort& port) {
  if (absl::Status status = net::Interface::validate(config.interface); !status.ok()) {
    return status;
  }
  absl::StatusOr<std::unique_ptr<driver::VirtioNet>> nic =
      driver::VirtioNet::create(port, config.nic, config.interface.mtu + kFrameOverhead);
  if (!nic.ok()) {
    return nic.status();
  }
  absl::StatusOr<driver::EventNotifier> wake = driver::EventNotifier::create();
  if (!wake.ok()) {
    return wake.status();
  }
  std::unique_ptr<Node> node(new Node(*std::move(nic), config.interface, *std::move(wake)));
  for (const StaticRoute& route : config.routes) {
    if (absl::Status status = node->stack_.add_route(route.destination, route.gateway);
        !status.ok()) {
      return status;
    }
  }
  for (const apps::ServiceSpec& service : config.services) {
    absl::StatusOr<std::unique_ptr<apps::RunningService>> running =
        apps::start_service(service, node->stack_);
    if (!running.ok()) {
      return running.status();
    }
    node->services_.push_back(*std::move(running));
    node->service_specs_.push_back(service);
  }
  for (const PortFault& fault : config.faults) {
    if (absl::Status status = node->set_fault(fault.port, fault.fault); !status.ok()) {
      return status;
    }
  }
  return node;
}

Node::Node(std::unique_ptr<driver::VirtioNet> nic, const net::InterfaceConfig& interface,
           driver::EventNotifier wake)
    : nic_(std::move(nic)),
      link_(*nic_),
      stack_(interface, link_, tcp_config()),
      wake_(std::move(wake)) {}

Node::~Node() = default;

void Node::stop() {
  stopping_.store(true);
  wake_.notify();
}

void Node::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    posted_.push_back(std::move(task));
  }
  wake_.notify();
}

void Node::run_posted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) {
    task();
  }
}

void Node::run() {
  using Clock = std::chrono::steady_clock;
  stack_.start(Clock::now());
  nic_->flush_tx();
  bool rx_pending = true;
  while (!stopping_.load()) {
    net::Instant now = Clock::now();
    const int timeout = rx_pending ? 0 : poll_timeout_ms(next_deadline(), now);
    pollfd fds[] = {{nic_->interrupt_fd(), POLLIN, 0}, {wake_.fd(), POLLIN, 0}};
    if (::poll(fds, 2, timeout) < 0 && errno != EINTR) {
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      wake_.consume();
      run_posted();
    }
    now = Clock::now();
    const TurnMarks before = turn_marks();
    std::size_t received = 0;
    rx_pending = nic_->poll_rx(kRxBudget, [&](const driver::RxFrame& frame) {
      ++received;
      stack_.receive(frame.frame, frame.checksum_trusted, now);
    });
    if (const auto deadline = stack_.next_deadline(); deadline && *deadline <= now) {
      stack_.poll(now);
    }
    for (const auto& service : services_) {
      if (const auto deadline = service->next_deadline(); deadline && *deadline <= now) {
        service->poll(now);
      }
    }
    nic_->flush_tx();
    if (received > 0) {
      record_turn(before, now);
    }
  }
  run_posted();
}

Node::TurnMarks Node::turn_marks() {
  const tcp::Tcp& tcp = stack_.tcp();
  return {tcp.counters().passive_opens, tcp.data_segments_in(), tcp.data_segments_out()};
}

void Node::record_turn(const TurnMarks& before, net::Instant frames_taken) {
  const TurnMarks after = turn_marks();
  if (after.passive_opens == before.passive_opens &&
      (after.data_segments_in == before.data_segments_in ||
       after.data_segments_out == before.data_segments_out)) {
    return;  // nothing answered (ACKs, a bulk transfer's data): not a service time
  }
  const auto took = std::chrono::steady_clock::now() - frames_taken;
  if (after.passive_opens != before.passive_opens) {
    service_times_.handshake.record(took);
  }
  if (after.data_segments_in != before.data_segments_in &&
      after.data_segments_out != before.data_segments_out) {
    service_times_.answer.record(took);
  }
}

std::optional<net::Instant> Node::next_deadline() const {
  std::optional<net::Instant> earliest = stack_.next_deadline();
  for (const auto& service : services_) {
    const auto deadline = service->next_deadline();
    if (deadline && (!earliest || *deadline < *earliest)) {
      earliest = deadline;
    }
  }
  return earliest;
}

NodeStats Node::stats() const {
  NodeStats stats{nic_->settings(), nic_->counters(), stack_.stats(), {}, service_times_};
  for (const auto& service : services_) {
    if (auto report = service->client_report()) {
      stats.clients.push_back(*std::move(report));
    }
  }
  return stats;
}

absl::Status Node::apply_nic(const driver::NicSettingsUpdate& update) {
  return nic_->apply(update.applied_to(nic_->settings()));
}

}  // namespace nslab::ustack::node

namespace nslab::ustack::node {

absl::Status Node::set_fault(std::uint16_t port, const apps::FaultSpec& fault) {
  bool found = false;
  for (std::size_t i = 0; i < services_.size(); ++i) {
    if (service_specs_[i].transport != "tcp" || service_specs_[i].port != port) {
      continue;
    }
    found = true;
    if (absl::Status status = services_[i]->set_fault(fault); !status.ok()) {
      return status;
    }
  }
  if (!found) {
    return absl::NotFoundError(absl::StrCat("fault ", apps::to_string(fault),
                                            ": no TCP service on port ", port,
                                            " (neither listening on it nor connecting to it)"));
  }
  return absl::OkStatus();
}

std::vector<PortFault> Node::faults() const {
  std::vector<PortFault> faults;
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const apps::FaultSpec fault = services_[i]->fault();
    const std::uint16_t port = service_specs_[i].port;
    const bool listed = std::any_of(faults.begin(), faults.end(),
                                    [&](const PortFault& entry) { return entry.port == port; });
    if (fault.mode != apps::FaultMode::kNone && !listed) {
      faults.push_back(PortFault{port, fault});
    }
  }
  std::sort(faults.begin(), faults.end(),
            [](const PortFault& a, const PortFault& b) { return a.port < b.port; });
  return faults;
}

}  // namespace nslab::ustack::node
