#include "daemon/ustack/apps/tcp_server.h"

#include <vector>

namespace nslab::ustack::apps {

TcpServer::~TcpServer() {
  for (const tcp::SocketId connection : connections_) {
    tcp_.close(connection, tcp_.now()).IgnoreError();
  }
  if (listening_) {
    tcp_.close(listener_, tcp_.now()).IgnoreError();
  }
}

absl::Status TcpServer::listen(std::uint16_t port) {
  absl::StatusOr<tcp::SocketId> listener =
      tcp_.listen(tcp::Endpoint{{}, port}, kListenOptions, tcp_.now());
  if (!listener.ok()) {
    return listener.status();
  }
  listener_ = *listener;
  listening_ = true;
  return tcp_.set_readiness_callback(listener_, [this](tcp::SocketId, std::uint8_t events) {
    if ((events & tcp::socket_event::kAcceptable) && fault_.mode != FaultMode::kNeverAccept) {
      accept_all();
    }
  });
}

absl::Status TcpServer::set_fault(const FaultSpec& fault) {
  fault_ = fault;
  const tcp::FaultPolicy policy = tcp_fault_policy(fault);
  if (listening_) {
    if (absl::Status status = tcp_.set_fault_policy(listener_, policy, tcp_.now()); !status.ok()) {
      return status;
    }
  }
  // Copies: a policy's reset may end a connection, and the app finish() it, at once.
  for (const tcp::SocketId connection : std::vector(connections_.begin(), connections_.end())) {
    tcp_.set_fault_policy(connection, policy, tcp_.now()).IgnoreError();
  }
  if (fault.mode != FaultMode::kSlowRead) {
    pacers_.clear();
    for (const tcp::SocketId connection : std::exchange(held_back_, {})) {
      if (connections_.contains(connection)) {
        serve(connection, tcp::socket_event::kReadable);
      }
    }
  } else {
    // A new rate starts afresh.
    pacers_.clear();
  }
  if (fault.mode != FaultMode::kCloseWait) {
    for (const tcp::SocketId connection : std::exchange(held_, {})) {
      release(connection);
    }
  }
  if (listening_ && fault.mode != FaultMode::kNeverAccept) {
    accept_all();
  }
  return absl::OkStatus();
}

void TcpServer::accept_all() {
  for (;;) {
    const absl::StatusOr<tcp::SocketId> connection = tcp_.accept(listener_);
    if (!connection.ok()) {
      return;
    }
    connections_.insert(*connection);
    tcp_.set_readiness_callback(*connection,
                                [this](tcp::SocketId socket, std::uint8_t events) {
                                  if (connections_.contains(socket) && !held_.contains(socket)) {
                                    serve(socket, events);
                                  }
                                })
        .IgnoreError();
    on_accepted(*connection);
    // Data may have come with the handshake's last ACK, before anyone listened for it.
    serve(*connection, tcp::socket_event::kReadable | tcp::socket_event::kWritable);
  }
}

void TcpServer::finish(tcp::SocketId connection) {
  if (!connections_.contains(connection) || held_.contains(connection)) {
    return;
  }
  if (fault_.mode == FaultMode::kCloseWait &&
      tcp_.state(connection).value_or(tcp::TcpState::kClosed) == tcp::TcpState::kCloseWait) {
    held_.insert(connection);  // the leak: never closed, until the fault is cleared
    return;
  }
  release(connection);
}

void TcpServer::release(tcp::SocketId connection) {
  if (connections_.erase(connection) == 0) {
    return;
  }
  held_.erase(connection);
  held_back_.erase(connection);
  pacers_.erase(connection);
  forget(connection);
  tcp_.close(connection, tcp_.now()).IgnoreError();
}

absl::StatusOr<std::size_t> TcpServer::read(tcp::SocketId connection, packet::MutableBytes out) {
  if (fault_.mode != FaultMode::kSlowRead) {
    return tcp_.read(connection, out, tcp_.now());
  }
  ReadPacer& pacer = pacers_.try_emplace(connection, fault_.rate, tcp_.now()).first->second;
  bool held_back = false;
  absl::StatusOr<std::size_t> read = paced_read(tcp_, connection, out, pacer, &held_back);
  if (held_back) {
    held_back_.insert(connection);
  }
  return read;
}

bool TcpServer::drain_and_drop(tcp::SocketId connection) {
  std::byte sink[16 * 1024];
  for (;;) {
    const absl::StatusOr<std::size_t> read = this->read(connection, sink);
    if (!read.ok()) {
      return !absl::IsUnavailable(read.status());
    }
    if (*read == 0) {
      return true;
    }
  }
}

std::optional<tcp::Instant> TcpServer::next_deadline() const {
  std::optional<tcp::Instant> earliest;
  for (const tcp::SocketId connection : held_back_) {
    if (const auto pacer = pacers_.find(connection); pacer != pacers_.end()) {
      const tcp::Instant ready = pacer->second.ready_at();
      if (!earliest || ready < *earliest) {
        earliest = ready;
      }
    }
  }
  return earliest;
}

void TcpServer::poll(tcp::Instant now) {
  // The stack's clock moves only with segments and timers; the pace reads it.
  tcp_.poll(now);
  std::vector<tcp::SocketId> ready;
  for (const tcp::SocketId connection : held_back_) {
    const auto pacer = pacers_.find(connection);
    if (pacer == pacers_.end() || pacer->second.ready_at() <= now) {
      ready.push_back(connection);
    }
  }
  for (const tcp::SocketId connection : ready) {
    held_back_.erase(connection);
    if (connections_.contains(connection) && !held_.contains(connection)) {
      serve(connection, tcp::socket_event::kReadable);
    }
  }
}

}  // namespace nslab::ustack::apps
