#pragma once

#include "daemon/diag/diagnostics.h"
#include "nslab/v1/diag.grpc.pb.h"

namespace nslab::server {

class DiagService final : public nslab::v1::DiagnosticsService::Service {
 public:
  explicit DiagService(diag::DiagEngine* engine) : engine_(engine) {}

  grpc::Status Sockets(grpc::ServerContext*, const nslab::v1::SocketsRequest* request,
                       nslab::v1::SocketsResponse* response) override;
  grpc::Status RouteGet(grpc::ServerContext*, const nslab::v1::RouteGetRequest* request,
                        nslab::v1::RouteGetResponse* response) override;
  grpc::Status Routes(grpc::ServerContext*, const nslab::v1::RoutesRequest* request,
                      nslab::v1::RoutesResponse* response) override;
  grpc::Status Conntrack(grpc::ServerContext*, const nslab::v1::ConntrackRequest* request,
                         nslab::v1::ConntrackResponse* response) override;
  grpc::Status Qdiscs(grpc::ServerContext*, const nslab::v1::QdiscsRequest* request,
                      nslab::v1::QdiscsResponse* response) override;
  grpc::Status Links(grpc::ServerContext*, const nslab::v1::LinksRequest* request,
                     nslab::v1::LinksResponse* response) override;
  grpc::Status Neighbours(grpc::ServerContext*, const nslab::v1::NeighboursRequest* request,
                          nslab::v1::NeighboursResponse* response) override;
  grpc::Status Snapshot(grpc::ServerContext*, const nslab::v1::SnapshotRequest* request,
                        nslab::v1::SnapshotResponse* response) override;
  grpc::Status Capture(grpc::ServerContext* context, const nslab::v1::CaptureRequest* request,
                       grpc::ServerWriter<nslab::v1::CaptureResponse>* writer) override;
  grpc::Status Trace(grpc::ServerContext*, const nslab::v1::TraceRequest* request,
                     nslab::v1::TraceResponse* response) override;

 private:
  diag::DiagEngine* engine_;
};

}  // namespace nslab::server
