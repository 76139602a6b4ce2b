#include "daemon/ustack/apps/service.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/ustack/apps/http_server.h"
#include "daemon/ustack/apps/tcp_chargen.h"
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

std::string ServiceSpec::to_string() const { return absl::StrCat(transport, ":", port, ":", app); }

absl::StatusOr<ServiceSpec> parse_service(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("service \"", text, "\": expected transport:port:app, e.g. udp:7:echo"));
  }
  std::uint32_t port = 0;
  if (!absl::SimpleAtoi(parts[1], &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("service \"", text, "\": port \"", parts[1], "\" is not in 1-65535"));
  }
  if (find_app(parts[0], parts[2]) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("service \"", text, "\": no app ", parts[0], ":",
                                                   parts[2], "; known: ", known_apps()));
  }
  return ServiceSpec{std::string(parts[0]), static_cast<std::uint16_t>(port),
                     std::string(parts[2])};
}

absl::StatusOr<std::unique_ptr<RunningService>> start_service(const ServiceSpec& service,
                                                              net::Stack& stack) {
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
