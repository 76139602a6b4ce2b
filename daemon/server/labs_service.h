#pragma once

#include <atomic>

#include "daemon/events/event_bus.h"
#include "daemon/lab/lab_registry.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::server {

class LabsService final : public nslab::v1::LabsService::Service {
 public:
  LabsService(lab::LabRegistry* registry, events::EventBus* events)
      : registry_(registry), events_(events) {}

  grpc::Status CreateLab(grpc::ServerContext* context, const nslab::v1::CreateLabRequest* request,
                         nslab::v1::CreateLabResponse* response) override;
  grpc::Status PlanLab(grpc::ServerContext* context, const nslab::v1::PlanLabRequest* request,
                       nslab::v1::PlanLabResponse* response) override;
  grpc::Status ApplyLab(grpc::ServerContext* context, const nslab::v1::ApplyLabRequest* request,
                        nslab::v1::ApplyLabResponse* response) override;
  grpc::Status GetLab(grpc::ServerContext* context, const nslab::v1::GetLabRequest* request,
                      nslab::v1::GetLabResponse* response) override;
  grpc::Status ListLabs(grpc::ServerContext* context, const nslab::v1::ListLabsRequest* request,
                        nslab::v1::ListLabsResponse* response) override;
  grpc::Status DeleteLab(grpc::ServerContext* context, const nslab::v1::DeleteLabRequest* request,
                         nslab::v1::DeleteLabResponse* response) override;
  grpc::Status GetLogs(grpc::ServerContext* context, const nslab::v1::GetLogsRequest* request,
                       nslab::v1::GetLogsResponse* response) override;
  // Holds one thread of the server's pool for as long as the watch lasts.
  grpc::Status WatchEvents(grpc::ServerContext* context,
                           const nslab::v1::WatchEventsRequest* request,
                           grpc::ServerWriter<nslab::v1::WatchEventsResponse>* writer) override;

 private:
  // Watches armed for a lab that does not exist yet (await_creation) hold a thread each
  // until the lab is built and deleted or their client cancels: only so many may wait.
  static constexpr int kMaxAwaitingWatches = 64;

  lab::LabRegistry* registry_;
  events::EventBus* events_;
  std::atomic<int> awaiting_watches_{0};
};

}  // namespace nslab::server
