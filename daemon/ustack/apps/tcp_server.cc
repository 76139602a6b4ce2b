#include "daemon/ustack/apps/tcp_server.h"

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
  absl::StatusOr<tcp::SocketId> listener = tcp_.listen(tcp::Endpoint{{}, port}, {}, tcp_.now());
  if (!listener.ok()) {
    return listener.status();
  }
  listener_ = *listener;
  listening_ = true;
  return tcp_.set_readiness_callback(listener_, [this](tcp::SocketId, std::uint8_t events) {
    if (events & tcp::socket_event::kAcceptable) {
      accept_all();
    }
  });
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
                                  if (connections_.contains(socket)) {
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
  if (connections_.erase(connection) == 0) {
    return;
  }
  forget(connection);
  tcp_.close(connection, tcp_.now()).IgnoreError();
}

}  // namespace nslab::ustack::apps
