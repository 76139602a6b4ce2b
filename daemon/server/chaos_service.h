#pragma once

#include "daemon/chaos/chaos_engine.h"
#include "nslab/v1/chaos.grpc.pb.h"

namespace nslab::server {

class ChaosService final : public nslab::v1::ChaosService::Service {
 public:
  explicit ChaosService(chaos::ChaosEngine* engine) : engine_(engine) {}

  grpc::Status SetFirewall(grpc::ServerContext*, const nslab::v1::SetFirewallRequest* request,
                           nslab::v1::SetFirewallResponse* response) override;
  grpc::Status GetFirewall(grpc::ServerContext*, const nslab::v1::GetFirewallRequest* request,
                           nslab::v1::GetFirewallResponse* response) override;
  grpc::Status FlushFirewall(grpc::ServerContext*, const nslab::v1::FlushFirewallRequest* request,
                             nslab::v1::FlushFirewallResponse* response) override;
  grpc::Status SetLinkState(grpc::ServerContext*, const nslab::v1::SetLinkStateRequest* request,
                            nslab::v1::SetLinkStateResponse* response) override;
  grpc::Status FlapLink(grpc::ServerContext*, const nslab::v1::FlapLinkRequest* request,
                        nslab::v1::FlapLinkResponse* response) override;
  grpc::Status SetImpairment(grpc::ServerContext*, const nslab::v1::SetImpairmentRequest* request,
                             nslab::v1::SetImpairmentResponse* response) override;
  grpc::Status ListImpairments(grpc::ServerContext*,
                               const nslab::v1::ListImpairmentsRequest* request,
                               nslab::v1::ListImpairmentsResponse* response) override;
  grpc::Status Partition(grpc::ServerContext*, const nslab::v1::PartitionRequest* request,
                         nslab::v1::PartitionResponse* response) override;
  grpc::Status Heal(grpc::ServerContext*, const nslab::v1::HealRequest* request,
                    nslab::v1::HealResponse* response) override;

 private:
  chaos::ChaosEngine* engine_;
};

}  // namespace nslab::server
