#pragma once

// A built-in service as the command line and topologies name it: "udp:7:echo" is the echo app
// on UDP port 7, "tcp:19:chargen" the character generator on TCP port 19, "tcp:80:http" the
// HTTP/1.1 server (http_server.h) on TCP port 80.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/ustack/net/stack.h"

namespace nslab::ustack::apps {

struct ServiceSpec {
  std::string transport;  // "udp", "tcp"
  std::uint16_t port = 0;
  std::string app;  // "echo", "discard"; "chargen", "http" on tcp

  std::string to_string() const;
};

// "transport:port:app"; INVALID_ARGUMENT naming the part that is wrong and what is allowed.
absl::StatusOr<ServiceSpec> parse_service(absl::string_view text);

// A service while it runs; destroying it unbinds its port (and, for TCP, closes its
// connections).
class RunningService {
 public:
  virtual ~RunningService() = default;
};

// Binds the service on the stack; ALREADY_EXISTS if its port is taken. The stack must outlive
// the returned service.
absl::StatusOr<std::unique_ptr<RunningService>> start_service(const ServiceSpec& service,
                                                              net::Stack& stack);

}  // namespace nslab::ustack::apps
