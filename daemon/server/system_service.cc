#include "daemon/server/system_service.h"

#include "daemon/common/version.h"

namespace nslab::server {

grpc::Status SystemService::GetVersion(grpc::ServerContext*, const nslab::v1::GetVersionRequest*,
                                       nslab::v1::GetVersionResponse* response) {
  response->set_version(kVersion);
  response->set_kernel(capabilities_.kernel());
  return grpc::Status::OK;
}

grpc::Status SystemService::GetCapabilities(grpc::ServerContext*,
                                            const nslab::v1::GetCapabilitiesRequest*,
                                            nslab::v1::GetCapabilitiesResponse* response) {
  *response->mutable_capabilities() = capabilities_;
  return grpc::Status::OK;
}

}  // namespace nslab::server
