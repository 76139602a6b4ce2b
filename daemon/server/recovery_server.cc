#include "daemon/server/recovery_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"

namespace nslab::server {
namespace {

// Every method the recovery server does not serve (all but health and reflection).
class UnavailableWhileRecovering final : public grpc::CallbackGenericService {
 public:
  explicit UnavailableWhileRecovering(std::string state_dir) : state_dir_(std::move(state_dir)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(const std::string& state_dir) {
        Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            absl::StrCat("nslabd is recovering the labs in ", state_dir,
                                         "; retry when its health check says SERVING (nslab "
                                         "health)")));
      }
      void OnDone() override { delete this; }
    };
    return new Reactor(state_dir_);
  }

 private:
  std::string state_dir_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RecoveryServer>> RecoveryServer::Start(
    const std::string& socket_path, const std::string& state_dir,
    const std::vector<std::string>& services) {
  std::unique_ptr<RecoveryServer> recovery(new RecoveryServer());
  recovery->unavailable_ = std::make_unique<UnavailableWhileRecovering>(state_dir);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // Bound under a name of its own and linked to `socket_path`: gRPC removes a server's path
  // when it shuts down, and by then `socket_path` names the serving daemon's socket.
  const std::string own_path = socket_path + ".recovering";
  ::unlink(own_path.c_str());
  builder.AddListeningPort(absl::StrCat("unix:", own_path), grpc::InsecureServerCredentials());
  builder.RegisterCallbackGenericService(recovery->unavailable_.get());
  recovery->server_ = builder.BuildAndStart();
  if (!recovery->server_) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", socket_path));
  }
  if (::link(own_path.c_str(), socket_path.c_str()) != 0) {
    return ErrnoStatus(absl::StrCat("link ", own_path, " to ", socket_path), errno);
  }
  auto* health = recovery->server_->GetHealthCheckService();
  health->SetServingStatus(false);
  for (const auto& service : services) {
    health->SetServingStatus(service, false);
  }
  return recovery;
}

RecoveryServer::~RecoveryServer() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  }
}

}  // namespace nslab::server
