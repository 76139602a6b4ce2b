#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class CallbackGenericService;
class Server;
}  // namespace grpc

namespace nslab::server {

// What nslabd's socket answers while it recovers the labs of its state directory: health is
// NOT_SERVING (for the server and every service), and every other call is UNAVAILABLE with a
// message that says to wait for SERVING. Probes and clients can tell "starting" from "gone"
// without ever seeing a half-recovered lab.
class RecoveryServer {
 public:
  // Listens on `socket_path` (a unix socket) until destroyed; `services` are the names the
  // serving daemon will answer health checks for.
  static absl::StatusOr<std::unique_ptr<RecoveryServer>> Start(
      const std::string& socket_path, const std::string& state_dir,
      const std::vector<std::string>& services);
  ~RecoveryServer();

 private:
  RecoveryServer() = default;
  std::unique_ptr<grpc::CallbackGenericService> unavailable_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace nslab::server
