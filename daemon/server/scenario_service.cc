#include "daemon/server/scenario_service.h"

#include <mutex>
#include <optional>
#include <utility>

#include "daemon/scenario/spec/yaml_reader.h"
#include "daemon/server/status_mapping.h"

namespace nslab::server {

grpc::Status ScenarioService::RunScenario(
    grpc::ServerContext* context, const nslab::v1::RunScenarioRequest* request,
    grpc::ServerWriter<nslab::v1::RunScenarioResponse>* writer) {
  // The engine reports events from the thread of each step; a stream takes one write at a time.
  std::mutex write_mutex;
  auto on_event = [&](const nslab::v1::LabEvent& event) {
    nslab::v1::RunScenarioResponse response;
    *response.mutable_event() = event;
    std::lock_guard<std::mutex> lock(write_mutex);
    writer->Write(response);
  };
  std::optional<uint64_t> seed;
  if (request->has_seed()) {
    seed = request->seed();
  }
  auto scenario = scenario::ScenarioOfRequest(
      request->has_scenario() ? &request->scenario() : nullptr, request->scenario_yaml());
  if (!scenario.ok()) {
    return ToGrpc(scenario.status());
  }
  auto report = scenarios_->Run(request->lab(), *scenario, seed, on_event,
                                [context] { return context->IsCancelled(); });
  if (!report.ok()) {
    return ToGrpc(report.status());
  }
  nslab::v1::RunScenarioResponse last;
  *last.mutable_report() = std::move(*report);
  std::lock_guard<std::mutex> lock(write_mutex);
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status ScenarioService::PlanScenario(grpc::ServerContext*,
                                           const nslab::v1::PlanScenarioRequest* request,
                                           nslab::v1::PlanScenarioResponse* response) {
  auto scenario = scenario::ScenarioOfRequest(
      request->has_scenario() ? &request->scenario() : nullptr, request->scenario_yaml());
  if (!scenario.ok()) {
    return ToGrpc(scenario.status());
  }
  nslab::v1::PlanScenarioRequest resolved = *request;
  *resolved.mutable_scenario() = std::move(*scenario);
  resolved.clear_scenario_yaml();
  auto plan = scenarios_->Plan(resolved);
  if (!plan.ok()) {
    return ToGrpc(plan.status());
  }
  *response = std::move(*plan);
  return grpc::Status::OK;
}

}  // namespace nslab::server
