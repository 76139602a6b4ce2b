#pragma once

#include "daemon/lab/lab_registry.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::server {

class LabsService final : public nslab::v1::LabsService::Service {
 public:
  explicit LabsService(lab::LabRegistry* registry) : registry_(registry) {}

  grpc::Status CreateLab(grpc::ServerContext* context, const nslab::v1::CreateLabRequest* request,
                         nslab::v1::CreateLabResponse* response) override;
  grpc::Status PlanLab(grpc::ServerContext* context, const nslab::v1::PlanLabRequest* request,
                       nslab::v1::PlanLabResponse* response) override;
  grpc::Status GetLab(grpc::ServerContext* context, const nslab::v1::GetLabRequest* request,
                      nslab::v1::GetLabResponse* response) override;
  grpc::Status ListLabs(grpc::ServerContext* context, const nslab::v1::ListLabsRequest* request,
                        nslab::v1::ListLabsResponse* response) override;
  grpc::Status DeleteLab(grpc::ServerContext* context, const nslab::v1::DeleteLabRequest* request,
                         nslab::v1::DeleteLabResponse* response) override;
  grpc::Status GetLogs(grpc::ServerContext* context, const nslab::v1::GetLogsRequest* request,
                       nslab::v1::GetLogsResponse* response) override;

 private:
  lab::LabRegistry* registry_;
};

}  // namespace nslab::server
