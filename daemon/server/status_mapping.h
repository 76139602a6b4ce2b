#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace nslab::server {

// The one place where the core's absl::Status becomes a gRPC status: same code, same
// message.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace nslab::server
