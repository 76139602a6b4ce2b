#include "daemon/server/recovery_server.h"

#include <grpc/grpc.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/common/errno_status.h"

namespace nslab::server {
namespace {

// Every connection here gets its GOAWAY this long after it was made (gRPC adds up to 10%
// jitter), and a call under way then has the grace period to finish; calls here answer at
// once. Clients of a long recovery reconnect this often, which over a unix socket costs
// nothing they could notice.
constexpr int kConnectionAgeMs = 200;
constexpr int kConnectionAgeGraceMs = 200;
// Past this, every connection made before Retire() has been told to go and has finished.
constexpr auto kRetireAfter =
    std::chrono::milliseconds(kConnectionAgeMs * 11 / 10 + kConnectionAgeGraceMs + 100);

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
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, kConnectionAgeMs);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, kConnectionAgeGraceMs);
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

void RecoveryServer::Retire() {
  if (retiring_.joinable()) {
    return;
  }
  retiring_ = std::thread([this] {
    stop_waiting_.WaitForNotificationWithTimeout(absl::FromChrono(kRetireAfter));
    ShutdownNow();
  });
}

void RecoveryServer::ShutdownNow() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    server_.reset();
  }
}

RecoveryServer::~RecoveryServer() {
  // nslabd stopping while a retirement waits: stop now.
  if (!stop_waiting_.HasBeenNotified()) {
    stop_waiting_.Notify();
  }
  if (retiring_.joinable()) {
    retiring_.join();
  } else {
    ShutdownNow();
  }
}

}  // namespace nslab::server
