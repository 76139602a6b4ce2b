#include "daemon/server/labs_service.h"

#include "daemon/server/status_mapping.h"
#include "daemon/topology/yaml_reader.h"

namespace nslab::server {

grpc::Status LabsService::CreateLab(grpc::ServerContext*,
                                    const nslab::v1::CreateLabRequest* request,
                                    nslab::v1::Lab* response) {
  nslab::v1::Topology topology;
  switch (request->source_case()) {
    case nslab::v1::CreateLabRequest::kTopologyYaml: {
      auto parsed = topology::ReadTopologyYaml(request->topology_yaml());
      if (!parsed.ok()) {
        return ToGrpc(parsed.status());
      }
      topology = std::move(*parsed);
      break;
    }
    case nslab::v1::CreateLabRequest::kTopology:
      topology = request->topology();
      break;
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "source: give topology_yaml (the file's text) or topology");
  }
  auto lab = registry_->Create(std::move(topology), request->name(), request->base_dir());
  if (!lab.ok()) {
    return ToGrpc(lab.status());
  }
  *response = std::move(*lab);
  return grpc::Status::OK;
}

grpc::Status LabsService::GetLab(grpc::ServerContext*, const nslab::v1::GetLabRequest* request,
                                 nslab::v1::Lab* response) {
  auto lab = registry_->Get(request->name());
  if (!lab.ok()) {
    return ToGrpc(lab.status());
  }
  *response = std::move(*lab);
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

}  // namespace nslab::server
