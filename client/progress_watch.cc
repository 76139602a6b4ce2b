#include "client/progress_watch.h"

#include <unistd.h>

#include <cstdio>

#include "absl/time/time.h"

namespace nslab::client {
namespace {

// Arming takes one round trip, the closing event is already on its way when the call
// returns: these bound only a daemon that misbehaves.
constexpr absl::Duration kArmWait = absl::Seconds(5);
constexpr absl::Duration kCloseWait = absl::Seconds(2);

}  // namespace

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressWatch::ProgressWatch(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                             Operation operation, bool terminal)
    : operation_(operation), stub_(nslab::v1::LabsService::NewStub(channel)), printer_(terminal) {
  request_.set_lab(lab);
  request_.set_await_creation(operation == Operation::kBuild);
  reader_ = std::thread([this] { Read(); });
  absl::MutexLock lock(&mutex_);
  auto settled = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return armed_ || ended_; };
  mutex_.AwaitWithTimeout(absl::Condition(&settled), kArmWait);
}

ProgressWatch::~ProgressWatch() { Finish(false); }

void ProgressWatch::Write(const std::string& text) {
  if (!text.empty()) {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }
}

void ProgressWatch::Read() {
  auto reader = stub_->WatchEvents(&context_, request_);
  nslab::v1::WatchEventsResponse response;
  const auto closing = operation_ == Operation::kBuild ? nslab::v1::LAB_EVENT_KIND_LAB_READY
                                                       : nslab::v1::LAB_EVENT_KIND_LAB_DELETED;
  while (reader->Read(&response)) {
    const auto& event = response.event();
    absl::MutexLock lock(&mutex_);
    armed_ = true;
    if (closed_) {
      continue;  // another operation's events, after ours ended
    }
    if (event.kind() == nslab::v1::LAB_EVENT_KIND_PROGRESS) {
      Write(printer_.Update(event.progress()));
    } else if (event.kind() == closing) {
      closed_ = true;
    }
  }
  (void)reader->Finish();  // NOT_FOUND from an older daemon, CANCELLED by Finish: no progress
  absl::MutexLock lock(&mutex_);
  ended_ = true;
}

void ProgressWatch::Finish(bool succeeded) {
  if (finished_) {
    return;
  }
  finished_ = true;
  {
    absl::MutexLock lock(&mutex_);
    if (succeeded && armed_) {
      auto over = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return closed_ || ended_; };
      mutex_.AwaitWithTimeout(absl::Condition(&over), kCloseWait);
    }
  }
  context_.TryCancel();
  reader_.join();
  absl::MutexLock lock(&mutex_);
  Write(printer_.Finish(succeeded && closed_));
}

grpc::Status CallWithProgress(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                              ProgressWatch::Operation operation, bool show,
                              const std::function<grpc::Status()>& call) {
  if (!show || lab.empty()) {
    return call();
  }
  ProgressWatch progress(channel, lab, operation, StderrIsTerminal());
  grpc::Status status = call();
  progress.Finish(status.ok());
  return status;
}

}  // namespace nslab::client
