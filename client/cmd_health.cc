// `nslab health`: gRPC's standard health check, for probes (the container's HEALTHCHECK,
// Kubernetes exec probes) that have the CLI but not grpc_health_probe.
#include <iostream>

#include "client/commands.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace nslab::client {

void AddHealthCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("health",
                                 "Exit 0 when nslabd answers SERVING (gRPC health check), else 1");
  static std::string service;
  cmd->add_option("--service", service, "A service to ask about (default: the whole server)");
  cmd->callback([&options, &exit_code] {
    auto stub = grpc::health::v1::Health::NewStub(Connect(options));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    auto status = stub->Check(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
              << "\n";
    exit_code = response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
  });
}

}  // namespace nslab::client
