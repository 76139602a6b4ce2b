#include "daemon/server/participants_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/server/status_mapping.h"

namespace nslab::server {
namespace {

// The stack answers from its own thread at once; a slow answer means it is stuck.
constexpr auto kControlDeadline = std::chrono::seconds(5);

grpc::Status Forwarded(const grpc::Status& status, const std::string& lab,
                       const std::string& node) {
  if (status.ok() || status.error_code() != grpc::StatusCode::UNAVAILABLE) {
    return status;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("the stack of ", lab, ":", node,
                                   " is not answering (starting or crashed? nslab logs ", lab, " ",
                                   node, "): ", status.error_message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<nslab::v1::UstackControlService::Stub>> ParticipantsService::Connect(
    const std::string& lab, const std::string& node) const {
  auto topology = labs_->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  for (const auto& candidate : topology->nodes()) {
    if (candidate.name() != node) {
      continue;
    }
    if (candidate.kind() != nslab::v1::NODE_KIND_USTACK) {
      return absl::FailedPreconditionError(
          absl::StrCat("node ", node, " of lab ", lab, " is not of kind ustack"));
    }
    auto channel = grpc::CreateChannel("unix:" + labs_->UstackControlSocket(lab, node),
                                       grpc::InsecureChannelCredentials());
    return nslab::v1::UstackControlService::NewStub(channel);
  }
  return absl::NotFoundError(absl::StrCat("lab ", lab, " has no node \"", node, "\""));
}

grpc::Status ParticipantsService::GetUstackStats(grpc::ServerContext*,
                                                 const nslab::v1::GetUstackStatsRequest* request,
                                                 nslab::v1::GetUstackStatsResponse* response) {
  auto stub = Connect(request->lab(), request->node());
  if (!stub.ok()) {
    return ToGrpc(stub.status());
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kControlDeadline);
  nslab::v1::UstackControlServiceGetStatsResponse stats;
  auto status = (*stub)->GetStats(&context, {}, &stats);
  *response->mutable_stats() = std::move(*stats.mutable_stats());
  return Forwarded(status, request->lab(), request->node());
}

grpc::Status ParticipantsService::SetUstackNic(grpc::ServerContext*,
                                               const nslab::v1::SetUstackNicRequest* request,
                                               nslab::v1::SetUstackNicResponse* response) {
  auto stub = Connect(request->lab(), request->node());
  if (!stub.ok()) {
    return ToGrpc(stub.status());
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kControlDeadline);
  nslab::v1::UstackControlServiceSetNicResponse nic;
  auto status = (*stub)->SetNic(&context, request->nic(), &nic);
  *response->mutable_nic() = std::move(*nic.mutable_nic());
  return Forwarded(status, request->lab(), request->node());
}

}  // namespace nslab::server
