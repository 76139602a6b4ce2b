#pragma once

// A built-in app as the command line and topologies name it. Servers listen on one of the
// stack's ports; clients connect out:
//
//   transport:port:app                  a server: "udp:7:echo", "tcp:19:chargen", "tcp:80:http"
//   tcp:address:port:app[:bytes]        a client: "tcp:10.0.0.1:5001:source:1000000"
//
// Client apps (tcp_client.h): `source` sends the generated pattern (byte i = i % 251), `bytes`
// of it or, without a count, until the peer closes; `sink` reads until the peer closes; `hold`
// connects and then does nothing, so that the peer can walk the connection through its states.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/net/stack.h"
#include "daemon/ustack/packet/ipv4_address.h"

namespace nslab::ustack::apps {

struct ServiceSpec {
  std::string transport;  // "udp", "tcp"
  // Set for a client: it connects to connect:port instead of listening on port.
  std::optional<packet::Ipv4Address> connect;
  std::uint16_t port = 0;
  std::string app;  // servers: "echo", "discard"; "chargen", "http" on tcp. Clients: tcp_client.h
  std::optional<std::uint64_t> bytes;  // `source` only: how much to send (unset: no end)

  bool is_client() const { return connect.has_value(); }
  std::string to_string() const;
};

// One of the two forms above; INVALID_ARGUMENT naming the part that is wrong and what is allowed.
absl::StatusOr<ServiceSpec> parse_service(absl::string_view text);

// How a client is doing, for `nslab ustack stats`.
struct ClientReport {
  enum class Phase { kConnecting, kTransferring, kDone, kFailed };

  std::string spec;
  Phase phase = Phase::kConnecting;
  std::string error;  // why it failed; while connecting, why the last attempt did
  std::uint32_t connect_attempts = 0;
  std::string local;  // the last connection's local endpoint, "10.0.0.2:40000"
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t received_fnv1a64 = 0;  // of every byte received, in order (byte_pattern.h)
  bool received_pattern_ok = true;     // every byte received was the generated pattern's
};

// "connecting", "transferring", "done", "failed".
absl::string_view phase_name(ClientReport::Phase phase);

// A service while it runs; destroying it unbinds its port (and, for TCP, closes its
// connections).
class RunningService {
 public:
  virtual ~RunningService() = default;

  // Work due at a time of its own (a client's first connect, its retries); the node calls poll()
  // once that time is reached. The first connect waits for it too, so that it is made with the
  // node's clock rather than before the node runs.
  virtual std::optional<tcp::Instant> next_deadline() const { return std::nullopt; }
  virtual void poll(tcp::Instant /*now*/) {}
  // Set for clients.
  virtual std::optional<ClientReport> client_report() const { return std::nullopt; }
  // The fault it runs under (fault.h), TCP services only: FAILED_PRECONDITION on others.
  virtual absl::Status set_fault(const FaultSpec& fault);
  virtual FaultSpec fault() const { return {}; }
};

// Binds a server on the stack (ALREADY_EXISTS if its port is taken), or sets a client up to
// connect on its first poll(). The stack must outlive the returned service.
absl::StatusOr<std::unique_ptr<RunningService>> start_service(const ServiceSpec& service,
                                                              net::Stack& stack);

}  // namespace nslab::ustack::apps
