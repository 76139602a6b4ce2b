#pragma once

// The built-in TCP clients: each connects out to one server and moves data (service.h names
// them, e.g. "tcp:10.0.0.1:5001:source:1000000").
//
//   source  writes the generated pattern (byte_pattern.h): `bytes` of it, then shuts its sending
//           side down (FIN) and reads until the peer closes; without a count it writes until the
//           peer shuts its side down, then shuts down too. What it reads meanwhile is counted and
//           checked against the pattern, so that against an echo server both directions are
//           verified.
//   sink    reads until the peer shuts down, counting the bytes and their FNV-1a 64 digest, then
//           closes. Sends nothing.
//   hold    connects, then neither reads, writes nor closes until it is destroyed: the peer walks
//           the connection through its states (it stays in CLOSE-WAIT once the peer shuts down).
//
// A connect that fails before the handshake completes (refused, timed out) is retried, because
// the server may start after the stack: kMaxConnectAttempts in all, kFirstRetryDelay after the
// first failure and twice as long after each next one, at most kMaxRetryDelay (about 13 s from
// the first attempt to the last). A connection that failed after its handshake is not retried:
// the data it moved is the result.
//
// Its fault (fault.h) applies to its connection: the TCP-level part as the socket's
// tcp::FaultPolicy, slow-read paces its reads, and close-wait keeps the socket open once the
// peer's FIN has been read (the report says done; a source without a count keeps sending).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "daemon/ustack/apps/byte_pattern.h"
#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/apps/read_pacer.h"
#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/tcp/tcp.h"

namespace nslab::ustack::apps {

class TcpClient final : public RunningService {
 public:
  enum class Kind { kSource, kSink, kHold };

  static constexpr std::uint32_t kMaxConnectAttempts = 10;
  static constexpr tcp::Duration kFirstRetryDelay = std::chrono::milliseconds(100);
  static constexpr tcp::Duration kMaxRetryDelay = std::chrono::seconds(2);

  // "source", "sink", "hold"; nullopt for any other name.
  static std::optional<Kind> kind_named(std::string_view name);
  static constexpr char kKnownKinds[] = "source, sink, hold";

  // Connects on the first poll(), not here. `bytes` is for a source only; `spec` is what the
  // report names it by.
  TcpClient(tcp::Tcp& tcp, Kind kind, tcp::Endpoint server, std::optional<std::uint64_t> bytes,
            std::string spec);
  ~TcpClient() override;
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  std::optional<tcp::Instant> next_deadline() const override;
  void poll(tcp::Instant now) override;
  std::optional<ClientReport> client_report() const override;
  // FAILED_PRECONDITION for a listener's fault (refuse, blackhole-syn, never-accept).
  absl::Status set_fault(const FaultSpec& fault) override;
  FaultSpec fault() const override { return fault_; }

 private:
  void connect(tcp::Instant now);
  void on_event();
  // An attempt failed before its handshake completed: retry later, or give up.
  void connect_failed(absl::Status error, tcp::Instant now);
  // Reads what there is; false when the connection failed (and the client with it).
  bool receive(tcp::Instant now);
  // Writes what the send buffer takes; false when the connection failed.
  bool send(tcp::Instant now);
  void end(ClientReport::Phase phase, std::string error, tcp::Instant now);

  tcp::Tcp& tcp_;
  const Kind kind_;
  const tcp::Endpoint server_;
  const std::optional<std::uint64_t> bytes_;
  std::optional<tcp::SocketId> socket_;
  std::optional<tcp::Instant> connect_at_ = tcp::Instant{};  // set while a connect is due
  tcp::Duration retry_delay_ = kFirstRetryDelay;
  bool shut_down_ = false;      // our FIN is queued
  bool end_of_stream_ = false;  // the peer's FIN was read
  Fnv1a64 digest_;
  std::vector<std::byte> buffer_;
  ClientReport report_;
  FaultSpec fault_;
  std::optional<ReadPacer> pacer_;  // slow-read
  bool held_back_ = false;          // slow-read held data back: read again at its ready_at()
  bool held_open_ = false;          // close-wait: done, but the socket is left open
};

}  // namespace nslab::ustack::apps
