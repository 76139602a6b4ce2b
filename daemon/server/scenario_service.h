#pragma once

#include "daemon/scenario/lab/lab_scenarios.h"
#include "nslab/v1/scenario.grpc.pb.h"

namespace nslab::server {

class ScenarioService final : public nslab::v1::ScenarioService::Service {
 public:
  explicit ScenarioService(scenario::LabScenarios* scenarios) : scenarios_(scenarios) {}

  grpc::Status RunScenario(grpc::ServerContext* context,
                           const nslab::v1::RunScenarioRequest* request,
                           grpc::ServerWriter<nslab::v1::RunScenarioResponse>* writer) override;
  grpc::Status PlanScenario(grpc::ServerContext*, const nslab::v1::PlanScenarioRequest* request,
                            nslab::v1::PlanScenarioResponse* response) override;

 private:
  scenario::LabScenarios* scenarios_;
};

}  // namespace nslab::server
