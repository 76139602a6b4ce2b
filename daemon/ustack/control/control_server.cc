#include "daemon/ustack/control/control_server.h"

#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/ustack/control/stats_proto.h"
#include "nslab/v1/ustack.grpc.pb.h"

namespace nslab::ustack::control {
namespace {

bool socket_in_use(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return false;
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

grpc::Status to_grpc(const absl::Status& status) {
  return status.ok() ? grpc::Status::OK
                     : grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                    std::string(status.message()));
}

}  // namespace

class UstackControlService final : public v1::UstackControlService::CallbackService {
 public:
  explicit UstackControlService(node::Node& node) : node_(node) {}

  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::UstackControlServiceGetStatsRequest* /*request*/,
                                     v1::UstackControlServiceGetStatsResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    node_.post([this, reactor, response] {
      to_proto(node_.stats(), response->mutable_stats());
      to_proto(node_.faults(), response->mutable_stats()->mutable_faults());
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* SetFault(grpc::CallbackServerContext* context,
                                     const v1::UstackControlServiceSetFaultRequest* request,
                                     v1::UstackControlServiceSetFaultResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<node::PortFault> fault = from_proto(request->fault());
    if (!fault.ok()) {
      reactor->Finish(to_grpc(fault.status()));
      return reactor;
    }
    node_.post([this, reactor, response, fault = *fault] {
      const absl::Status status = node_.set_fault(fault.port, fault.fault);
      to_proto(node_.faults(), response->mutable_faults());
      reactor->Finish(to_grpc(status));
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* SetNic(grpc::CallbackServerContext* context,
                                   const v1::UstackControlServiceSetNicRequest* request,
                                   v1::UstackControlServiceSetNicResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const driver::NicSettingsUpdate update = from_proto(*request);
    node_.post([this, reactor, response, update] {
      const absl::Status status = node_.apply_nic(update);
      to_proto(node_.stats().nic_settings, response->mutable_nic());
      reactor->Finish(to_grpc(status));
    });
    return reactor;
  }

 private:
  node::Node& node_;
};

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& socket_path,
                                                                    node::Node& node) {
  struct stat existing {};
  if (::lstat(socket_path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return absl::AlreadyExistsError(
          absl::StrCat("control socket ", socket_path, ": a file that is not a socket is there"));
    }
    if (socket_in_use(socket_path)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "control socket ", socket_path, " is served by a running process; pick another path"));
    }
    // Left by a process that was killed: gRPC cannot bind over it.
    ::unlink(socket_path.c_str());
  }
  auto service = std::make_unique<UstackControlService>(node);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::StrCat("unix:", socket_path), grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on control socket ", socket_path,
                                               " (does its directory exist and is it writable?)"));
  }
  return std::unique_ptr<ControlServer>(
      new ControlServer(socket_path, std::move(service), std::move(server)));
}

ControlServer::ControlServer(std::string socket_path, std::unique_ptr<UstackControlService> service,
                             std::unique_ptr<grpc::Server> server)
    : socket_path_(std::move(socket_path)),
      service_(std::move(service)),
      server_(std::move(server)) {}

ControlServer::~ControlServer() { shutdown(); }

void ControlServer::shutdown() {
  if (server_ == nullptr) {
    return;
  }
  // Calls in flight are answered by the node within microseconds; the deadline only bounds
  // the wait for idle client connections, which gRPC otherwise lets linger until it passes.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  server_->Wait();
  server_.reset();
  ::unlink(socket_path_.c_str());
}

}  // namespace nslab::ustack::control
