#pragma once

// What the built-in TCP apps share: a listener that accepts every connection as it completes
// its handshake, and readiness events handed to the app per connection. Destroying the server
// closes the listener and every connection it still holds.

#include <cstdint>
#include <set>

#include "absl/status/status.h"
#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::apps {

class TcpServer : public RunningService {
 public:
  ~TcpServer() override;
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Listens on `port` on every address; ALREADY_EXISTS when the port is taken.
  absl::Status listen(std::uint16_t port);

 protected:
  explicit TcpServer(tcp::Tcp& tcp) : tcp_(tcp) {}

  // A new connection; `serve` follows at once with it writable.
  virtual void on_accepted(tcp::SocketId) {}
  // `events` (tcp::socket_event bits) happened on a connection.
  virtual void serve(tcp::SocketId connection, std::uint8_t events) = 0;
  // The app lets a connection go: called by finish() before the socket is closed.
  virtual void forget(tcp::SocketId) {}
  // Closes the connection (gracefully, after what was written) and forgets it.
  void finish(tcp::SocketId connection);

  tcp::Tcp& tcp_;

 private:
  void accept_all();

  tcp::SocketId listener_ = 0;
  bool listening_ = false;
  std::set<tcp::SocketId> connections_;
};

}  // namespace nslab::ustack::apps
