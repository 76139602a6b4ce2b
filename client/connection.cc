#include "client/connection.h"

#include <chrono>
#include <cstdio>

namespace nslab::client {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

std::shared_ptr<grpc::Channel> Connect(const GlobalOptions& options) {
  const std::string target = options.address.empty() ? "unix:" + options.socket : options.address;
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

std::unique_ptr<grpc::ClientContext> NewContext(const GlobalOptions& options) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (options.timeout_seconds > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(options.timeout_seconds));
  }
  return context;
}

int ReportError(const grpc::Status& status, const GlobalOptions& options) {
  std::fprintf(stderr, "nslab: %s: %s\n", CodeName(status.error_code()),
               status.error_message().c_str());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::fprintf(stderr, "nslab: is nslabd running? (socket %s; set --socket or NSLAB_SOCKET)\n",
                 options.address.empty() ? options.socket.c_str() : options.address.c_str());
  }
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ? 69 : 1;
}

}  // namespace nslab::client
