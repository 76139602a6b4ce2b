#include "daemon/ustack/apps/service.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/ustack/apps/http_server.h"
#include "daemon/ustack/apps/tcp_chargen.h"
#include "daemon/ustack/apps/tcp_client.h"
#include "daemon/ustack/apps/tcp_discard.h"
#include "daemon/ustack/apps/tcp_echo.h"
#include "daemon/ustack/apps/udp_discard.h"
#include "daemon/ustack/apps/udp_echo.h"

namespace nslab::ustack::apps {
namespace {

using Started = absl::StatusOr<std::unique_ptr<RunningService>>;

// A bound UDP port; the datagram callback lives in Udp, so only the binding is held.
class UdpBinding final : public RunningService {
 public:
  UdpBinding(net::Udp& udp, std::uint16_t port) : udp_(udp), port_(port) {}
  ~UdpBinding() override { udp_.unbind(port_); }

 private:
  net::Udp& udp_;
  std::uint16_t port_;
};

template <absl::Status (*kStartUdp)(net::Udp&, std::uint16_t)>
Started start_udp(net::Stack& stack, std::uint16_t port) {
  if (absl::Status status = kStartUdp(stack.udp(), port); !status.ok()) {
    return status;
  }
  return std::make_unique<UdpBinding>(stack.udp(), port);
}

template <typename TcpApp>
Started start_tcp(net::Stack& stack, std::uint16_t port) {
  auto app = TcpApp::start(stack.tcp(), port);
  if (!app.ok()) {
    return app.status();
  }
  return std::unique_ptr<RunningService>(std::move(*app));
}

struct App {
  const char* transport;
  const char* name;
  Started (*start)(net::Stack& stack, std::uint16_t port);
};

constexpr App kApps[] = {
    {"udp", "echo", &start_udp<&start_udp_echo>},
    {"udp", "discard", &start_udp<&start_udp_discard>},
    {"tcp", "echo", &start_tcp<TcpEcho>},
    {"tcp", "discard", &start_tcp<TcpDiscard>},
    {"tcp", "chargen", &start_tcp<TcpChargen>},
    {"tcp", "http", &start_tcp<HttpServer>},
};

std::string known_apps() {
  std::vector<std::string> names;
  for (const App& app : kApps) {
    names.push_back(absl::StrCat(app.transport, ":", app.name));
  }
  return absl::StrJoin(names, ", ");
}

const App* find_app(absl::string_view transport, absl::string_view name) {
  for (const App& app : kApps) {
    if (transport == app.transport && name == app.name) {
      return &app;
    }
  }
  return nullptr;
}

}  // namespace

std::string ServiceSpec::to_string() const {
  if (!connect) {
    return absl::StrCat(transport, ":", port, ":", app);
  }
  std::string text = absl::StrCat(transport, ":", connect->to_string(), ":", port, ":", app);
  if (bytes) {
    absl::StrAppend(&text, ":", *bytes);
  }
  return text;
}

absl::Status RunningService::set_fault(const FaultSpec& fault) {
  return absl::FailedPreconditionError(
      absl::StrCat("fault ", to_string(fault), ": only TCP services take faults"));
}

absl::string_view phase_name(ClientReport::Phase phase) {
  switch (phase) {
    case ClientReport::Phase::kConnecting:
      return "connecting";
    case ClientReport::Phase::kTransferring:
      return "transferring";
    case ClientReport::Phase::kDone:
      return "done";
    case ClientReport::Phase::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

absl::Status invalid(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("service \"", text, "\": ", why));
}

absl::StatusOr<std::uint16_t> parse_port(absl::string_view text, absl::string_view port) {
  std::uint32_t value = 0;
  if (!absl::SimpleAtoi(port, &value) || value == 0 || value > 65535) {
    return invalid(text, absl::StrCat("port \"", port, "\" is not in 1-65535"));
  }
  return static_cast<std::uint16_t>(value);
}

// tcp:address:port:app[:bytes]
absl::StatusOr<ServiceSpec> parse_client(absl::string_view text,
                                         const std::vector<absl::string_view>& parts) {
  if (parts[0] != "tcp") {
    return invalid(text, absl::StrCat("only tcp clients connect out, not ", parts[0]));
  }
  ServiceSpec spec;
  spec.transport = "tcp";
  spec.connect = packet::Ipv4Address::parse(std::string_view(parts[1].data(), parts[1].size()));
  if (!spec.connect) {
    return invalid(text, absl::StrCat("\"", parts[1], "\" is not an IPv4 address to connect to"));
  }
  if (spec.connect->is_unspecified() || spec.connect->is_broadcast() ||
      spec.connect->is_multicast()) {
    return invalid(text, absl::StrCat(parts[1], " is not a unicast address"));
  }
  absl::StatusOr<std::uint16_t> port = parse_port(text, parts[2]);
  if (!port.ok()) {
    return port.status();
  }
  spec.port = *port;
  spec.app = std::string(parts[3]);
  const std::optional<TcpClient::Kind> kind = TcpClient::kind_named(spec.app);
  if (!kind) {
    return invalid(text, absl::StrCat("no client app ", spec.app, "; known: ",
                                      TcpClient::kKnownKinds, " (servers are transport:port:app)"));
  }
  if (parts.size() == 5) {
    std::uint64_t bytes = 0;
    if (*kind != TcpClient::Kind::kSource) {
      return invalid(text, "only source takes a byte count");
    }
    if (!absl::SimpleAtoi(parts[4], &bytes)) {
      return invalid(text, absl::StrCat("byte count \"", parts[4], "\" is not a number"));
    }
    spec.bytes = bytes;
  }
  return spec;
}

}  // namespace

absl::StatusOr<ServiceSpec> parse_service(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() == 4 || parts.size() == 5) {
    return parse_client(text, parts);
  }
  if (parts.size() != 3) {
    return invalid(text,
                   "expected transport:port:app (a server, e.g. udp:7:echo) or "
                   "tcp:address:port:app[:bytes] (a client, e.g. tcp:10.0.0.1:5001:source:1000)");
  }
  absl::StatusOr<std::uint16_t> port = parse_port(text, parts[1]);
  if (!port.ok()) {
    return port.status();
  }
  if (find_app(parts[0], parts[2]) == nullptr) {
    return invalid(text, absl::StrCat("no app ", parts[0], ":", parts[2], "; known: ", known_apps(),
                                      "; clients: tcp:address:port:", TcpClient::kKnownKinds));
  }
  return ServiceSpec{std::string(parts[0]), std::nullopt, *port, std::string(parts[2]),
                     std::nullopt};
}

absl::StatusOr<std::unique_ptr<RunningService>> start_service(const ServiceSpec& service,
                                                              net::Stack& stack) {
  if (service.is_client()) {
    const std::optional<TcpClient::Kind> kind = TcpClient::kind_named(service.app);
    if (service.transport != "tcp" || !kind) {
      return absl::InvalidArgumentError(absl::StrCat("service ", service.to_string(),
                                                     ": unknown client; known: tcp with ",
                                                     TcpClient::kKnownKinds));
    }
    return std::make_unique<TcpClient>(stack.tcp(), *kind,
                                       tcp::Endpoint{*service.connect, service.port}, service.bytes,
                                       service.to_string());
  }
  const App* app = find_app(service.transport, service.app);
  if (app == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("service ", service.to_string(), ": unknown app; known: ", known_apps()));
  }
  Started started = app->start(stack, service.port);
  if (!started.ok()) {
    return absl::Status(started.status().code(), absl::StrCat("service ", service.to_string(), ": ",
                                                              started.status().message()));
  }
  return started;
}

}  // namespace nslab::ustack::apps
