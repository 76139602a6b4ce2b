#pragma once

#include "daemon/exec/process_registry.h"
#include "daemon/lab/lab_registry.h"
#include "nslab/v1/exec.grpc.pb.h"

namespace nslab::server {

class ExecService final : public nslab::v1::ExecService::Service {
 public:
  ExecService(lab::LabRegistry* labs, exec::ProcessRegistry* processes)
      : labs_(labs), processes_(processes) {}

  grpc::Status Run(grpc::ServerContext* context, const nslab::v1::RunRequest* request,
                   grpc::ServerWriter<nslab::v1::RunResponse>* writer) override;

 private:
  lab::LabRegistry* labs_;
  exec::ProcessRegistry* processes_;
};

}  // namespace nslab::server
