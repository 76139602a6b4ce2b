#include "daemon/server/diag_service.h"

#include "absl/time/clock.h"
#include "daemon/server/status_mapping.h"

namespace nslab::server {
namespace {

template <typename T>
grpc::Status Fill(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) {
    return ToGrpc(result.status());
  }
  *response = std::move(*result);
  return grpc::Status::OK;
}

// Packets per streamed message and the longest a packet waits for its batch to fill.
constexpr int kBatchPackets = 256;
constexpr size_t kBatchBytes = 1 << 20;
constexpr absl::Duration kBatchDelay = absl::Milliseconds(20);

}  // namespace

grpc::Status DiagService::Sockets(grpc::ServerContext*, const nslab::v1::SocketsRequest* request,
                                  nslab::v1::SocketsResponse* response) {
  diag::SocketFilter filter{request->state(), request->port(), request->protocol()};
  return Fill(engine_->Sockets(request->lab(), request->node(), filter), response);
}

grpc::Status DiagService::RouteGet(grpc::ServerContext*, const nslab::v1::RouteGetRequest* request,
                                   nslab::v1::RouteGetResponse* response) {
  diag::RouteQuery query{request->destination(), request->source(), request->mark(),
                         request->input_interface()};
  return Fill(engine_->RouteGet(request->lab(), request->node(), query), response);
}

grpc::Status DiagService::Routes(grpc::ServerContext*, const nslab::v1::RoutesRequest* request,
                                 nslab::v1::RoutesResponse* response) {
  return Fill(engine_->Routes(request->lab(), request->node()), response);
}

grpc::Status DiagService::Conntrack(grpc::ServerContext*,
                                    const nslab::v1::ConntrackRequest* request,
                                    nslab::v1::ConntrackResponse* response) {
  return Fill(engine_->Conntrack(request->lab(), request->node()), response);
}

grpc::Status DiagService::Qdiscs(grpc::ServerContext*, const nslab::v1::QdiscsRequest* request,
                                 nslab::v1::QdiscsResponse* response) {
  return Fill(engine_->Qdiscs(request->lab(), request->node(), request->interface()), response);
}

grpc::Status DiagService::Links(grpc::ServerContext*, const nslab::v1::LinksRequest* request,
                                nslab::v1::LinksResponse* response) {
  return Fill(engine_->Links(request->lab(), request->node()), response);
}

grpc::Status DiagService::Neighbours(grpc::ServerContext*,
                                     const nslab::v1::NeighboursRequest* request,
                                     nslab::v1::NeighboursResponse* response) {
  return Fill(engine_->Neighbours(request->lab(), request->node()), response);
}

grpc::Status DiagService::Snapshot(grpc::ServerContext*, const nslab::v1::SnapshotRequest* request,
                                   nslab::v1::SnapshotResponse* response) {
  return Fill(engine_->Snapshot(request->lab()), response);
}

grpc::Status DiagService::Trace(grpc::ServerContext*, const nslab::v1::TraceRequest* request,
                                nslab::v1::TraceResponse* response) {
  return Fill(engine_->Trace(*request), response);
}

grpc::Status DiagService::Capture(grpc::ServerContext* context,
                                  const nslab::v1::CaptureRequest* request,
                                  grpc::ServerWriter<nslab::v1::CaptureResponse>* writer) {
  diag::CaptureOptions options;
  options.interface = request->interface();
  options.filter = request->filter();
  // Kernel blocks (TPACKET_V3) hold packets at their real size; per-packet slots of the
  // immediate mode are snaplen-sized and overflow under a burst.
  options.immediate = false;
  options.buffer_bytes = 32 << 20;
  if (request->snaplen() != 0) {
    options.snaplen = request->snaplen();
  }
  auto capture = engine_->OpenCapture(request->lab(), request->node(), options);
  if (!capture.ok()) {
    return ToGrpc(capture.status());
  }
  // Armed: the client may start its traffic once it has this.
  nslab::v1::CaptureResponse started;
  started.mutable_started()->set_link_type(static_cast<uint32_t>(capture->link_type()));
  started.mutable_started()->set_snaplen(capture->snaplen());
  started.mutable_started()->set_interface(request->interface());
  if (!writer->Write(started)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  }
  const absl::Time deadline = request->duration_ms() != 0
                                  ? absl::Now() + absl::Milliseconds(request->duration_ms())
                                  : absl::InfiniteFuture();
  uint64_t sent = 0;
  std::string reason = "cancelled";
  nslab::v1::CaptureResponse batch;
  size_t batch_bytes = 0;
  absl::Time batch_started = absl::InfiniteFuture();
  auto flush = [&] {
    if (batch.packets().packets_size() == 0) {
      return true;
    }
    const bool ok = writer->Write(batch);
    batch.mutable_packets()->clear_packets();
    batch_bytes = 0;
    batch_started = absl::InfiniteFuture();
    return ok;
  };
  const diag::PacketCapture::PacketFn on_packet = [&](const pcap_pkthdr& header,
                                                      const u_char* data) {
    auto* packet = batch.mutable_packets()->add_packets();
    packet->set_ts_sec(header.ts.tv_sec);
    packet->set_ts_usec(static_cast<uint32_t>(header.ts.tv_usec));
    packet->set_original_length(header.len);
    packet->set_data(data, header.caplen);
    batch_bytes += header.caplen;
    if (batch_started == absl::InfiniteFuture()) {
      batch_started = absl::Now();
    }
    ++sent;
  };
  while (true) {
    if (context->IsCancelled()) {
      break;
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      reason = "duration";
      break;
    }
    if (request->count() != 0 && sent >= request->count()) {
      reason = "count";
      break;
    }
    const int max = request->count() != 0 ? static_cast<int>(request->count() - sent) : 0;
    auto got = capture->Poll(std::min(absl::Milliseconds(50), deadline - now), max, on_packet);
    if (!got.ok()) {
      flush();
      return ToGrpc(got.status());
    }
    if (batch.packets().packets_size() >= kBatchPackets || batch_bytes >= kBatchBytes ||
        absl::Now() - batch_started >= kBatchDelay ||
        (request->count() != 0 && sent >= request->count())) {
      if (!flush()) {
        break;
      }
    }
  }
  flush();
  const auto stats = capture->Stats();
  nslab::v1::CaptureResponse end;
  end.mutable_end()->set_packets(sent);
  end.mutable_end()->set_kernel_dropped(stats.dropped);
  end.mutable_end()->set_interface_dropped(stats.interface_dropped);
  end.mutable_end()->set_reason(reason);
  writer->Write(end);
  return grpc::Status::OK;
}

}  // namespace nslab::server
