#pragma once

// The UstackControl gRPC service of one nslab-ustack process, on a unix socket. Every request
// is answered on the node's thread (posted there), so the stats are one instant's and a NIC
// change never races the rings.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/ustack/node/node.h"

namespace grpc {
class Server;
}

namespace nslab::ustack::control {

class UstackControlService;

class ControlServer {
 public:
  // Listens on `socket_path`; a stale socket file there (left by a killed process) is replaced,
  // anything else is refused. `node` must outlive the server.
  static absl::StatusOr<std::unique_ptr<ControlServer>> start(const std::string& socket_path,
                                                              node::Node& node);
  ~ControlServer();

  // Finishes the calls in flight (the node must still be running) and removes the socket file.
  void shutdown();

 private:
  ControlServer(std::string socket_path, std::unique_ptr<UstackControlService> service,
                std::unique_ptr<grpc::Server> server);

  std::string socket_path_;
  std::unique_ptr<UstackControlService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace nslab::ustack::control
