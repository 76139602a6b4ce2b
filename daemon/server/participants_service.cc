#include "daemon/server/participants_service.h"

#include "daemon/lab/ustack_control.h"
#include "daemon/server/status_mapping.h"

namespace nslab::server {

grpc::Status ParticipantsService::GetUstackStats(grpc::ServerContext*,
                                                 const nslab::v1::GetUstackStatsRequest* request,
                                                 nslab::v1::GetUstackStatsResponse* response) {
  auto stats = lab::GetUstackStats(*labs_, request->lab(), request->node());
  if (!stats.ok()) {
    return ToGrpc(stats.status());
  }
  *response->mutable_stats() = std::move(*stats);
  return grpc::Status::OK;
}

grpc::Status ParticipantsService::SetUstackNic(grpc::ServerContext*,
                                               const nslab::v1::SetUstackNicRequest* request,
                                               nslab::v1::SetUstackNicResponse* response) {
  auto nic = lab::SetUstackNic(*labs_, request->lab(), request->node(), request->nic());
  if (!nic.ok()) {
    return ToGrpc(nic.status());
  }
  *response->mutable_nic() = std::move(*nic);
  return grpc::Status::OK;
}

grpc::Status ParticipantsService::SetUstackFault(grpc::ServerContext*,
                                                 const nslab::v1::SetUstackFaultRequest* request,
                                                 nslab::v1::SetUstackFaultResponse* response) {
  auto faults = lab::SetUstackFault(*labs_, request->lab(), request->node(), request->fault());
  if (!faults.ok()) {
    return ToGrpc(faults.status());
  }
  for (auto& fault : *faults) {
    *response->add_faults() = std::move(fault);
  }
  return grpc::Status::OK;
}

}  // namespace nslab::server
