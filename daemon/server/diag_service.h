#pragma once

#include "daemon/diag/diagnostics.h"
#include "nslab/v1/diag.grpc.pb.h"

namespace nslab::server {

class DiagService final : public nslab::v1::Diagnostics::Service {
 public:
  explicit DiagService(diag::DiagEngine* engine) : engine_(engine) {}

  grpc::Status Sockets(grpc::ServerContext*, const nslab::v1::SocketsRequest* request,
                       nslab::v1::SocketList* response) override;
  grpc::Status RouteGet(grpc::ServerContext*, const nslab::v1::RouteGetRequest* request,
                        nslab::v1::RouteDecision* response) override;
  grpc::Status Routes(grpc::ServerContext*, const nslab::v1::NodeRequest* request,
                      nslab::v1::RoutingTables* response) override;
  grpc::Status GetFirewall(grpc::ServerContext*, const nslab::v1::NodeRequest* request,
                           nslab::v1::Firewall* response) override;
  grpc::Status Conntrack(grpc::ServerContext*, const nslab::v1::NodeRequest* request,
                         nslab::v1::ConntrackTable* response) override;
  grpc::Status Qdiscs(grpc::ServerContext*, const nslab::v1::QdiscsRequest* request,
                      nslab::v1::QdiscList* response) override;
  grpc::Status Links(grpc::ServerContext*, const nslab::v1::NodeRequest* request,
                     nslab::v1::LinkList* response) override;
  grpc::Status Neighbours(grpc::ServerContext*, const nslab::v1::NodeRequest* request,
                          nslab::v1::NeighbourList* response) override;
  grpc::Status Snapshot(grpc::ServerContext*, const nslab::v1::SnapshotRequest* request,
                        nslab::v1::LabSnapshot* response) override;
  grpc::Status Capture(grpc::ServerContext* context, const nslab::v1::CaptureRequest* request,
                       grpc::ServerWriter<nslab::v1::CaptureMessage>* writer) override;
  grpc::Status Trace(grpc::ServerContext*, const nslab::v1::TraceRequest* request,
                     nslab::v1::TraceReport* response) override;

 private:
  diag::DiagEngine* engine_;
};

}  // namespace nslab::server
