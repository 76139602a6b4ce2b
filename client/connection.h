#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace nslab::client {

inline constexpr char kDefaultSocket[] = "/run/nslab/nslabd.sock";

// Options every verb shares.
struct GlobalOptions {
  std::string socket = kDefaultSocket;  // --socket, or NSLAB_SOCKET
  std::string address;                  // --address host:port (TCP, loopback plaintext)
  std::string output = "table";         // -o table|json|yaml
  int timeout_seconds = 300;
};

std::shared_ptr<grpc::Channel> Connect(const GlobalOptions& options);

// A context with the deadline from the options.
std::unique_ptr<grpc::ClientContext> NewContext(const GlobalOptions& options);

// Prints "nslab: CODE: message" (with a hint when the daemon is unreachable) and returns
// the exit code for a failed call.
int ReportError(const grpc::Status& status, const GlobalOptions& options);

}  // namespace nslab::client
