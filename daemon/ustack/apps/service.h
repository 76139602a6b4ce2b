#pragma once

// A built-in service as the command line and topologies name it: "udp:7:echo" is the echo app
// on UDP port 7.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/ustack/net/stack.h"

namespace nslab::ustack::apps {

struct ServiceSpec {
  std::string transport;  // "udp" (tcp comes with part 2)
  std::uint16_t port = 0;
  std::string app;  // "echo", "discard"

  std::string to_string() const;
};

// "transport:port:app"; INVALID_ARGUMENT naming the part that is wrong and what is allowed.
absl::StatusOr<ServiceSpec> parse_service(absl::string_view text);

// Binds the service on the stack; ALREADY_EXISTS if its port is taken.
absl::Status start_service(const ServiceSpec& service, net::Stack& stack);

}  // namespace nslab::ustack::apps
