#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "client/progress_print.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

// Shows the progress of the CLI's own CreateLab or DeleteLab on stderr. Those calls are
// unary, so the progress comes on a watch of the lab (LabsService.WatchEvents) armed before
// the call is made: every event of the operation is published after the watch's first
// message arrives, so none is missed. A daemon that cannot watch (an older one, which knows
// no await_creation) only means no progress.
class ProgressWatch {
 public:
  enum class Operation { kBuild, kRemove };

  // Arms the watch of `lab` and waits, briefly, until it is armed. `terminal`: stderr is one.
  ProgressWatch(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                Operation operation, bool terminal);
  ~ProgressWatch();
  ProgressWatch(const ProgressWatch&) = delete;
  ProgressWatch& operator=(const ProgressWatch&) = delete;

  // After the operation's call returned (`succeeded`: with OK): waits, briefly, for the
  // event that closes it (LAB_READY, LAB_DELETED) so that the last count is shown, then ends
  // the watch and the progress output.
  void Finish(bool succeeded);

 private:
  void Read();
  void Write(const std::string& text);

  const Operation operation_;
  std::unique_ptr<nslab::v1::LabsService::Stub> stub_;
  grpc::ClientContext context_;
  nslab::v1::WatchEventsRequest request_;
  std::thread reader_;
  absl::Mutex mutex_;
  ProgressPrinter printer_ ABSL_GUARDED_BY(mutex_);
  bool armed_ ABSL_GUARDED_BY(mutex_) = false;
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;  // the closing event came
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;   // the stream ended
  bool finished_ = false;
};

// Whether stderr is a terminal (progress rewrites its line there).
bool StderrIsTerminal();

// Makes `call`, the CLI's own CreateLab or DeleteLab of `lab`, with its progress shown on
// stderr (no progress when `show` is false or `lab` is empty); returns what `call` returned.
grpc::Status CallWithProgress(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                              ProgressWatch::Operation operation, bool show,
                              const std::function<grpc::Status()>& call);

}  // namespace nslab::client
