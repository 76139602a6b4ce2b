#pragma once

#include "daemon/lab/lab_registry.h"
#include "nslab/v1/participants.grpc.pb.h"

namespace nslab::server {

// Forwards to the UstackControl service of a ustack node's process (lab/ustack_control.h).
class ParticipantsService final : public nslab::v1::ParticipantsService::Service {
 public:
  explicit ParticipantsService(lab::LabRegistry* labs) : labs_(labs) {}

  grpc::Status GetUstackStats(grpc::ServerContext*, const nslab::v1::GetUstackStatsRequest* request,
                              nslab::v1::GetUstackStatsResponse* response) override;
  grpc::Status SetUstackNic(grpc::ServerContext*, const nslab::v1::SetUstackNicRequest* request,
                            nslab::v1::SetUstackNicResponse* response) override;
  grpc::Status SetUstackFault(grpc::ServerContext*, const nslab::v1::SetUstackFaultRequest* request,
                              nslab::v1::SetUstackFaultResponse* response) override;

 private:
  lab::LabRegistry* labs_;
};

}  // namespace nslab::server
