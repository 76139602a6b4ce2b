#include "daemon/server/labs_service.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "daemon/lab/plan.h"
#include "daemon/lab/readiness.h"
#include "daemon/server/status_mapping.h"
#include "daemon/topology/client_files.h"
#include "daemon/topology/graph.h"
#include "daemon/topology/yaml_reader.h"
#include "daemon/topology/yaml_writer.h"

namespace nslab::server {

namespace {

// CreateLabRequest, PlanLabRequest and ApplyLabRequest carry the topology the same way.
template <typename Request>
absl::StatusOr<nslab::v1::Topology> ReadSource(const Request& request) {
  switch (request.source_case()) {
    case Request::kTopologyYaml:
      return topology::ReadTopologyYaml(request.topology_yaml());
    case Request::kTopology:
      return request.topology();
    default:
      return absl::InvalidArgumentError("source: give topology_yaml (the file's text) or topology");
  }
}

// The request's topology with the texts of the files it names in place.
template <typename Request>
absl::StatusOr<nslab::v1::Topology> TopologyOf(const Request& request) {
  auto topology = ReadSource(request);
  if (topology.ok()) {
    if (auto error = topology::InlineClientFiles(&*topology, request.files())) {
      return error->ToStatus();
    }
  }
  return topology;
}

absl::Status CheckView(nslab::v1::LabView view) {
  if (!nslab::v1::LabView_IsValid(view)) {
    return absl::InvalidArgumentError(
        absl::StrCat("view ", static_cast<int>(view),
                     " is not a LabView: send LAB_VIEW_BASIC (1), LAB_VIEW_FULL (2) or leave it "
                     "unset (full)"));
  }
  return absl::OkStatus();
}

nslab::v1::ChangeKind ToProto(lab::ChangeKind kind) {
  switch (kind) {
    case lab::ChangeKind::kAdd:
      return nslab::v1::CHANGE_KIND_ADD;
    case lab::ChangeKind::kRemove:
      return nslab::v1::CHANGE_KIND_REMOVE;
    case lab::ChangeKind::kChange:
      return nslab::v1::CHANGE_KIND_CHANGE;
    case lab::ChangeKind::kReplace:
      return nslab::v1::CHANGE_KIND_REPLACE;
  }
  return nslab::v1::CHANGE_KIND_UNSPECIFIED;
}

lab::LabRegistry::View ViewOf(nslab::v1::LabView view) {
  return view == nslab::v1::LAB_VIEW_BASIC ? lab::LabRegistry::View::kBasic
                                           : lab::LabRegistry::View::kFull;
}

}  // namespace

grpc::Status LabsService::CreateLab(grpc::ServerContext*,
                                    const nslab::v1::CreateLabRequest* request,
                                    nslab::v1::CreateLabResponse* response) {
  if (auto status = CheckView(request->view()); !status.ok()) {
    return ToGrpc(status);
  }
  auto topology = TopologyOf(*request);
  if (!topology.ok()) {
    return ToGrpc(topology.status());
  }
  auto lab = registry_->Create(std::move(*topology), request->name(), ViewOf(request->view()));
  if (!lab.ok()) {
    return ToGrpc(lab.status());
  }
  const uint32_t timeout =
      request->wait_timeout_seconds() == 0 ? 60 : request->wait_timeout_seconds();
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout);
  for (const auto& condition : request->wait_for()) {
    auto netns = registry_->NodeNamespace(lab->name(), condition.node());
    absl::Status status =
        netns.ok() ? lab::WaitListening(*netns, condition.protocol(), condition.port(), deadline)
                   : netns.status();
    if (!status.ok()) {
      return ToGrpc(absl::Status(
          status.code(),
          absl::StrCat("lab ", lab->name(), " is up but not ready: wait_for ", condition.node(),
                       ":", condition.protocol(), ":", condition.port(), ": ", status.message(),
                       " (inspect with nslab logs/exec; remove with nslab down)")));
    }
  }
  *response->mutable_lab() = std::move(*lab);
  return grpc::Status::OK;
}

grpc::Status LabsService::PlanLab(grpc::ServerContext*, const nslab::v1::PlanLabRequest* request,
                                  nslab::v1::PlanLabResponse* response) {
  auto topology = TopologyOf(*request);
  if (!topology.ok()) {
    return ToGrpc(topology.status());
  }
  auto prepared = lab::LabRegistry::Prepare(std::move(*topology), request->name());
  if (!prepared.ok()) {
    return ToGrpc(prepared.status());
  }
  for (auto& step : lab::PlanSteps(*prepared, prepared->name())) {
    response->add_steps(std::move(step));
  }
  response->set_dot(topology::ToDot(*prepared));
  response->set_mermaid(topology::ToMermaid(*prepared));
  *response->mutable_topology() = std::move(*prepared);
  return grpc::Status::OK;
}

grpc::Status LabsService::ApplyLab(grpc::ServerContext*, const nslab::v1::ApplyLabRequest* request,
                                   nslab::v1::ApplyLabResponse* response) {
  if (auto status = CheckView(request->view()); !status.ok()) {
    return ToGrpc(status);
  }
  if (request->name().empty()) {
    return ToGrpc(absl::InvalidArgumentError("name: say which running lab to change"));
  }
  auto topology = TopologyOf(*request);
  if (!topology.ok()) {
    return ToGrpc(topology.status());
  }
  auto applied = registry_->Apply(request->name(), std::move(*topology), request->dry_run(),
                                  ViewOf(request->view()));
  if (!applied.ok()) {
    return ToGrpc(applied.status());
  }
  for (const auto& change : applied->changes) {
    auto* planned = response->add_changes();
    planned->set_kind(ToProto(change.kind));
    planned->set_object(change.object);
    planned->set_detail(change.detail);
    planned->set_text(lab::PlanLine(change));
  }
  if (applied->lab) {
    *response->mutable_lab() = std::move(*applied->lab);
  }
  return grpc::Status::OK;
}

grpc::Status LabsService::GetLab(grpc::ServerContext*, const nslab::v1::GetLabRequest* request,
                                 nslab::v1::GetLabResponse* response) {
  if (auto status = CheckView(request->view()); !status.ok()) {
    return ToGrpc(status);
  }
  auto lab = registry_->Get(request->name(), ViewOf(request->view()));
  if (!lab.ok()) {
    return ToGrpc(lab.status());
  }
  if (request->include_topology_yaml()) {
    auto yaml = topology::WriteTopologyYaml(lab->topology());
    if (!yaml.ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          absl::StrCat("cannot write lab ", request->name(),
                                       "'s topology back as a file: ", yaml.status().message()));
    }
    response->set_topology_yaml(std::move(*yaml));
  }
  *response->mutable_lab() = std::move(*lab);
  return grpc::Status::OK;
}

grpc::Status LabsService::ListLabs(grpc::ServerContext*, const nslab::v1::ListLabsRequest*,
                                   nslab::v1::ListLabsResponse* response) {
  for (auto& lab : registry_->List()) {
    *response->add_labs() = std::move(lab);
  }
  return grpc::Status::OK;
}

grpc::Status LabsService::DeleteLab(grpc::ServerContext*,
                                    const nslab::v1::DeleteLabRequest* request,
                                    nslab::v1::DeleteLabResponse*) {
  return ToGrpc(registry_->Delete(request->name()));
}

grpc::Status LabsService::GetLogs(grpc::ServerContext*, const nslab::v1::GetLogsRequest* request,
                                  nslab::v1::GetLogsResponse* response) {
  auto reports = registry_->Logs(request->lab(), request->node());
  if (!reports.ok()) {
    return ToGrpc(reports.status());
  }
  for (const auto& report : *reports) {
    auto* log = response->add_processes();
    for (const auto& arg : report.argv) {
      log->add_argv(arg);
    }
    log->set_running(report.running);
    log->set_pid(report.pid);
    log->set_restarts(report.restarts);
    log->set_last_exit_code(report.last_exit_code);
    log->set_output(report.output);
    log->set_truncated(report.truncated);
  }
  return grpc::Status::OK;
}

grpc::Status LabsService::WatchEvents(grpc::ServerContext* context,
                                      const nslab::v1::WatchEventsRequest* request,
                                      grpc::ServerWriter<nslab::v1::WatchEventsResponse>* writer) {
  if (request->await_creation() && request->lab().empty()) {
    return ToGrpc(absl::InvalidArgumentError("lab: name the lab whose creation to await"));
  }
  // Subscribed before the lab is looked up: a lab found now announces its deletion to this
  // subscription, and one deleted meanwhile is not found.
  auto subscription = events_->Subscribe(request->lab());
  // Holds one of the awaiting places until the lab is created (or the watch ends).
  struct AwaitingPlace {
    std::atomic<int>* count = nullptr;
    void Release() {
      if (count != nullptr) {
        count->fetch_sub(1);
        count = nullptr;
      }
    }
    ~AwaitingPlace() { Release(); }
  } awaiting;
  if (auto status = registry_->Exists(request->lab()); !status.ok()) {
    if (!request->await_creation() || !absl::IsNotFound(status)) {
      return ToGrpc(status);
    }
    if (awaiting_watches_.fetch_add(1) >= kMaxAwaitingWatches) {
      awaiting_watches_.fetch_sub(1);
      return ToGrpc(absl::ResourceExhaustedError(absl::StrCat(
          kMaxAwaitingWatches,
          " watches already wait for labs that do not exist yet; cancel one, or watch lab ",
          request->lab(), " once it exists")));
    }
    awaiting.count = &awaiting_watches_;
  }
  nslab::v1::WatchEventsResponse armed;
  *armed.mutable_event()->mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  armed.mutable_event()->set_lab(request->lab());
  armed.mutable_event()->set_message(
      awaiting.count != nullptr ? absl::StrCat("waiting for lab ", request->lab(), " to be built")
                                : absl::StrCat("watching lab ", request->lab()));
  if (!writer->Write(armed)) {
    return grpc::Status::OK;  // the client went away
  }
  // The sync API tells of a cancelled call only when asked: asked a few times a second.
  constexpr absl::Duration kCancelCheck = absl::Milliseconds(250);
  while (!context->IsCancelled()) {
    auto event = subscription->Next(absl::Now() + kCancelCheck);
    if (!event.has_value()) {
      continue;
    }
    if (event->kind() == nslab::v1::LAB_EVENT_KIND_LAB_CREATED) {
      awaiting.Release();
    }
    const bool last = event->kind() == nslab::v1::LAB_EVENT_KIND_LAB_DELETED;
    nslab::v1::WatchEventsResponse response;
    *response.mutable_event() = std::move(*event);
    if (!writer->Write(response) || last) {
      return grpc::Status::OK;
    }
  }
  return grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled");
}

}  // namespace nslab::server
