#pragma once

// A listening socket's two queues (Linux's): the SYN queue holds handshakes in progress
// (SYN_RECEIVED), the accept queue holds established connections the application has not
// accepted yet. Each has a limit; what does not fit is dropped and counted by the caller, as
// Linux does with tcp_abort_on_overflow = 0 and no SYN cookies: a SYN that finds the accept
// queue full is dropped (ListenOverflows, ListenDrops), so is a handshake's last ACK (the peer's
// retransmission tries again later), and a SYN that finds the SYN queue full (ListenDrops).

#include <cstddef>
#include <deque>
#include <optional>
#include <set>

#include "daemon/ustack/tcp/config.h"
#include "daemon/ustack/tcp/endpoint.h"
#include "daemon/ustack/tcp/fault_policy.h"
#include "daemon/ustack/tcp/socket_info.h"

namespace nslab::ustack::tcp {

struct ListenOptions {
  // listen()'s argument, clamped to TcpConfig::max_listen_backlog. The accept queue is full once
  // it holds more than this, so it takes backlog + 1 connections and a backlog of 0 still one,
  // as Linux's does (sk_acceptq_is_full).
  std::size_t backlog = 128;
  std::size_t syn_backlog = 256;  // SYN queue (net.ipv4.tcp_max_syn_backlog); at least 1
};

class Listener {
 public:
  Listener(SocketId id, Endpoint local, ListenOptions limits, SocketOptions socket_options)
      : id_(id), local_(local), limits_(limits), socket_options_(socket_options) {}

  SocketId id() const { return id_; }
  const Endpoint& local() const { return local_; }
  const SocketOptions& socket_options() const { return socket_options_; }
  const ListenOptions& limits() const { return limits_; }
  void set_socket_options(const SocketOptions& options) { socket_options_ = options; }
  // How SYNs are answered; the connections it makes inherit the rest.
  const FaultPolicy& fault_policy() const { return fault_policy_; }
  void set_fault_policy(const FaultPolicy& policy) { fault_policy_ = policy; }

  bool syn_queue_full() const { return syn_queue_.size() >= limits_.syn_backlog; }
  bool accept_queue_full() const { return accept_queue_.size() > limits_.backlog; }
  std::size_t syn_queue_size() const { return syn_queue_.size(); }
  std::size_t accept_queue_size() const { return accept_queue_.size(); }
  const std::set<SocketId>& handshaking() const { return syn_queue_; }
  const std::deque<SocketId>& established() const { return accept_queue_; }

  void add_handshake(SocketId connection) { syn_queue_.insert(connection); }
  // The handshake completed.
  void promote(SocketId connection);
  // The connection ended before it was accepted.
  void forget(SocketId connection);
  std::optional<SocketId> pop_accepted();

 private:
  SocketId id_;
  Endpoint local_;  // address unspecified: any of ours
  ListenOptions limits_;
  SocketOptions socket_options_;
  FaultPolicy fault_policy_;
  std::set<SocketId> syn_queue_;
  std::deque<SocketId> accept_queue_;
};

}  // namespace nslab::ustack::tcp
