#pragma once

#include "daemon/lab/lab_registry.h"
#include "nslab/v1/participants.grpc.pb.h"
#include "nslab/v1/ustack.grpc.pb.h"

namespace nslab::server {

// Forwards to the UstackControl service of a ustack node's process.
class ParticipantsService final : public nslab::v1::ParticipantsService::Service {
 public:
  explicit ParticipantsService(lab::LabRegistry* labs) : labs_(labs) {}

  grpc::Status GetUstackStats(grpc::ServerContext*, const nslab::v1::GetUstackStatsRequest* request,
                              nslab::v1::GetUstackStatsResponse* response) override;
  grpc::Status SetUstackNic(grpc::ServerContext*, const nslab::v1::SetUstackNicRequest* request,
                            nslab::v1::SetUstackNicResponse* response) override;

 private:
  // A stub for the node's control socket; NOT_FOUND / FAILED_PRECONDITION say what is wrong.
  absl::StatusOr<std::unique_ptr<nslab::v1::UstackControlService::Stub>> Connect(
      const std::string& lab, const std::string& node) const;

  lab::LabRegistry* labs_;
};

}  // namespace nslab::server
