#pragma once

#include "nslab/v1/system.grpc.pb.h"

namespace nslab::server {

class SystemService final : public nslab::v1::SystemService::Service {
 public:
  explicit SystemService(nslab::v1::Capabilities capabilities)
      : capabilities_(std::move(capabilities)) {}

  grpc::Status GetVersion(grpc::ServerContext* context, const nslab::v1::GetVersionRequest* request,
                          nslab::v1::GetVersionResponse* response) override;
  grpc::Status GetCapabilities(grpc::ServerContext* context,
                               const nslab::v1::GetCapabilitiesRequest* request,
                               nslab::v1::GetCapabilitiesResponse* response) override;

 private:
  const nslab::v1::Capabilities capabilities_;  // probed once at start
};

}  // namespace nslab::server
