#pragma once

// What the built-in TCP apps share: a listener that accepts every connection as it completes
// its handshake, and readiness events handed to the app per connection. Destroying the server
// closes the listener and every connection it still holds.
//
// The server also carries out its fault (fault.h), so that no app has to: the TCP-level part
// goes to the listener and every connection as a tcp::FaultPolicy; never-accept stops
// accept(); close-wait holds a connection the app finish()es after the peer's FIN; slow-read
// paces read().

#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "absl/status/status.h"
#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/apps/read_pacer.h"
#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::apps {

class TcpServer : public RunningService {
 public:
  // What every built-in server listens with: Linux's default somaxconn for the accept queue, as
  // a server calling listen(fd, SOMAXCONN) gets, and a SYN queue as long, so that a burst of
  // thousands of connects (a load generator's first second) waits in the queues instead of
  // losing SYNs to a second-long retransmission timeout.
  static constexpr tcp::ListenOptions kListenOptions{tcp::kDefaultMaxListenBacklog,
                                                     tcp::kDefaultMaxListenBacklog};

  ~TcpServer() override;
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Listens on `port` on every address; ALREADY_EXISTS when the port is taken.
  absl::Status listen(std::uint16_t port);

  // RunningService: the fault, and the wake-ups slow-read needs.
  absl::Status set_fault(const FaultSpec& fault) override;
  FaultSpec fault() const override { return fault_; }
  std::optional<tcp::Instant> next_deadline() const override;
  void poll(tcp::Instant now) override;

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
  // What apps read with: tcp::Tcp::read, paced under slow-read (UNAVAILABLE while the pace holds
  // data back; serve() is called again once it lets more through).
  absl::StatusOr<std::size_t> read(tcp::SocketId connection, packet::MutableBytes out);
  // Reads and drops all `connection` has; true at its end (or when it failed).
  bool drain_and_drop(tcp::SocketId connection);

  tcp::Tcp& tcp_;

 private:
  void accept_all();
  // Closes and forgets a connection the app is done with.
  void release(tcp::SocketId connection);

  tcp::SocketId listener_ = 0;
  bool listening_ = false;
  std::set<tcp::SocketId> connections_;
  FaultSpec fault_;
  // close-wait: connections the app finished after the peer's FIN, left open.
  std::set<tcp::SocketId> held_;
  // slow-read: each connection's pace, and the connections it held back.
  std::map<tcp::SocketId, ReadPacer> pacers_;
  std::set<tcp::SocketId> held_back_;
};

}  // namespace nslab::ustack::apps
