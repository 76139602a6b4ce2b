#include "daemon/lab/ustack_control.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nslab/v1/ustack.grpc.pb.h"

namespace nslab::lab {
namespace {

// The stack answers from its own thread at once; a slow answer means it is stuck.
constexpr auto kControlDeadline = std::chrono::seconds(5);

// The node as the topology has it; NOT_FOUND / FAILED_PRECONDITION say what is wrong.
absl::StatusOr<nslab::v1::Node> UstackNode(const LabRegistry& labs, const std::string& lab,
                                           const std::string& node) {
  auto topology = labs.TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  for (const auto& candidate : topology->nodes()) {
    if (candidate.name() != node) {
      continue;
    }
    if (candidate.kind() != nslab::v1::NODE_KIND_USTACK) {
      return absl::FailedPreconditionError(
          absl::StrCat("node ", node, " of lab ", lab, " is not of kind ustack"));
    }
    return candidate;
  }
  return absl::NotFoundError(absl::StrCat("lab ", lab, " has no node \"", node, "\""));
}

std::unique_ptr<nslab::v1::UstackControlService::Stub> Stub(const LabRegistry& labs,
                                                            const std::string& lab,
                                                            const std::string& node) {
  return nslab::v1::UstackControlService::NewStub(grpc::CreateChannel(
      "unix:" + labs.UstackControlSocket(lab, node), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + kControlDeadline);
  return context;
}

absl::Status FromStack(const grpc::Status& status, const std::string& lab,
                       const std::string& node) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(absl::StrCat(
        "the stack of ", lab, ":", node, " is not answering (starting or crashed? nslab logs ", lab,
        " ", node, "): ", status.error_message()));
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

absl::StatusOr<nslab::v1::UstackStats> GetUstackStats(const LabRegistry& labs,
                                                      const std::string& lab,
                                                      const std::string& node) {
  if (auto found = UstackNode(labs, lab, node); !found.ok()) {
    return found.status();
  }
  nslab::v1::UstackControlServiceGetStatsResponse response;
  const grpc::Status status = Stub(labs, lab, node)->GetStats(Context().get(), {}, &response);
  if (!status.ok()) {
    return FromStack(status, lab, node);
  }
  return std::move(*response.mutable_stats());
}

absl::StatusOr<nslab::v1::UstackNicSettings> SetUstackNic(
    const LabRegistry& labs, const std::string& lab, const std::string& node,
    const nslab::v1::UstackControlServiceSetNicRequest& nic) {
  if (auto found = UstackNode(labs, lab, node); !found.ok()) {
    return found.status();
  }
  nslab::v1::UstackControlServiceSetNicResponse response;
  const grpc::Status status = Stub(labs, lab, node)->SetNic(Context().get(), nic, &response);
  if (!status.ok()) {
    return FromStack(status, lab, node);
  }
  return std::move(*response.mutable_nic());
}

absl::StatusOr<std::vector<nslab::v1::UstackFault>> SetUstackFault(
    const LabRegistry& labs, const std::string& lab, const std::string& node,
    const nslab::v1::UstackFault& fault) {
  auto found = UstackNode(labs, lab, node);
  if (!found.ok()) {
    return found.status();
  }
  nslab::v1::UstackControlServiceSetFaultRequest request;
  *request.mutable_fault() = fault;
  nslab::v1::UstackControlServiceSetFaultResponse response;
  const grpc::Status status = Stub(labs, lab, node)->SetFault(Context().get(), request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    std::set<uint32_t> ports;
    for (const auto& service : found->services()) {
      if (service.tcp() != 0) {
        ports.insert(service.tcp());
      }
    }
    return absl::NotFoundError(absl::StrCat(
        lab, ":", node, " has no TCP service on port ", fault.port(), " (its TCP ports: ",
        ports.empty() ? "none" : absl::StrJoin(ports, ", "), "): ", status.error_message()));
  }
  if (!status.ok()) {
    return FromStack(status, lab, node);
  }
  return std::vector<nslab::v1::UstackFault>(response.faults().begin(), response.faults().end());
}

}  // namespace nslab::lab
