// What the application sets and asks about a socket: its options (TCP_NODELAY, TCP_CORK,
// buffer sizes, keep-alive), its fault policy and readiness callback, and the socket table.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::tcp {

Tcp::Handle* Tcp::user_handle(SocketId socket) {
  const auto found = handles_.find(socket);
  return found == handles_.end() || !found->second.user_owned ? nullptr : &found->second;
}

absl::Status Tcp::set_fault_policy(SocketId socket, const FaultPolicy& policy, Instant now) {
  now_ = std::max(now_, now);
  Handle* handle = user_handle(socket);
  if (handle == nullptr) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  if (Listener* listener = handle->listener.get()) {
    listener->set_fault_policy(policy);
    std::vector<SocketId> queued(listener->handshaking().begin(), listener->handshaking().end());
    queued.insert(queued.end(), listener->established().begin(), listener->established().end());
    for (const SocketId id : queued) {
      if (Connection* connection = connection_for(id)) {
        connection->set_fault_policy(policy, now);
      }
    }
  } else {
    touch(socket, *handle);
    handle->connection->set_fault_policy(policy, now);
  }
  settle();
  return absl::OkStatus();
}

absl::Status Tcp::set_options(SocketId socket, const SocketOptions& options, Instant now) {
  now_ = std::max(now_, now);
  Handle* handle = user_handle(socket);
  if (handle == nullptr) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  if (options.send_buffer_size == 0 || options.receive_buffer_size == 0) {
    return absl::InvalidArgumentError("TCP buffer sizes must be at least 1 byte");
  }
  if (handle->listener) {
    handle->listener->set_socket_options(options);
  } else {
    touch(socket, *handle);
    handle->connection->set_options(options, now);
  }
  settle();
  return absl::OkStatus();
}

absl::Status Tcp::set_no_delay(SocketId socket, bool on, Instant now) {
  absl::StatusOr<SocketOptions> changed = options(socket);
  if (!changed.ok()) {
    return changed.status();
  }
  changed->no_delay = on;
  if (absl::Status status = set_options(socket, *changed, now); !status.ok()) {
    return status;
  }
  // Linux pushes whenever TCP_NODELAY is set, already on or not: an application's way to flush
  // a corked socket without uncorking it.
  Handle* handle = user_handle(socket);
  if (on && handle->connection) {
    touch(socket, *handle);
    handle->connection->push(now);
    settle();
  }
  return absl::OkStatus();
}

absl::Status Tcp::set_cork(SocketId socket, bool on, Instant now) {
  absl::StatusOr<SocketOptions> changed = options(socket);
  if (!changed.ok()) {
    return changed.status();
  }
  changed->cork = on;
  return set_options(socket, *changed, now);
}

absl::StatusOr<SocketOptions> Tcp::options(SocketId socket) const {
  const auto found = handles_.find(socket);
  if (found == handles_.end() || !found->second.user_owned) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  if (found->second.listener) {
    return found->second.listener->socket_options();
  }
  return found->second.connection->options();
}

absl::Status Tcp::set_readiness_callback(SocketId socket, ReadinessCallback callback) {
  const auto found = handles_.find(socket);
  if (found == handles_.end() || !found->second.user_owned) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  found->second.callback = std::move(callback);
  return absl::OkStatus();
}

absl::StatusOr<TcpState> Tcp::state(SocketId socket) const {
  const auto info_or = info(socket);
  if (!info_or.ok()) {
    return info_or.status();
  }
  return info_or->state;
}

absl::StatusOr<TcpSocketInfo> Tcp::info(SocketId socket) const {
  const Handle* handle = handle_for(socket);
  if (!handle) {
    return absl::NotFoundError(absl::StrCat("no TCP socket ", socket));
  }
  if (handle->connection) {
    return handle->connection->info();
  }
  TcpSocketInfo info;
  info.id = socket;
  info.local = handle->listener->local();
  info.state = TcpState::kListen;
  info.recv_q = handle->listener->accept_queue_size();
  info.send_q = handle->listener->limits().backlog;
  info.no_delay = handle->listener->socket_options().no_delay;
  info.cork = handle->listener->socket_options().cork;
  return info;
}

std::vector<TcpSocketInfo> Tcp::sockets() const {
  std::vector<TcpSocketInfo> table;
  for (const auto& [id, handle] : handles_) {
    if (handle.connection && handle.connection->state() == TcpState::kClosed) {
      continue;
    }
    table.push_back(*info(id));
  }
  return table;
}

std::uint64_t Tcp::current_established() const {
  return std::count_if(handles_.begin(), handles_.end(), [](const auto& entry) {
    const Connection* connection = entry.second.connection.get();
    return connection && (connection->state() == TcpState::kEstablished ||
                          connection->state() == TcpState::kCloseWait);
  });
}

}  // namespace nslab::ustack::tcp
