#include "daemon/events/progress.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/events/event_bus.h"
#include "daemon/events/progress_text.h"

namespace nslab::events {
namespace {

using nslab::v1::LabPhase;
using nslab::v1::LabProgress;

bool SameCounts(const LabProgress& a, const LabProgress& b) {
  return a.phase() == b.phase() && a.phase_done() == b.phase_done() &&
         a.nodes_done() == b.nodes_done() && a.links_done() == b.links_done();
}

}  // namespace

bool ProgressThrottle::Due(absl::Duration elapsed, bool phase_end, bool moved) const {
  if (elapsed < quiet_) {
    return false;
  }
  if (phase_end || !last_.has_value()) {
    return true;
  }
  return elapsed - *last_ >= (moved ? kInterval : kHeartbeat);
}

ProgressReporter::ProgressReporter(EventBus* bus, std::string lab,
                                   nslab::v1::LabOperation operation, uint32_t nodes_total,
                                   uint32_t links_total, absl::Duration quiet)
    : bus_(bus),
      lab_(std::move(lab)),
      operation_(operation),
      nodes_total_(nodes_total),
      links_total_(links_total),
      start_(std::chrono::steady_clock::now()),
      throttle_(quiet) {
  if (bus_ != nullptr) {
    ticker_ = std::thread([this] { Tick(); });
  }
}

ProgressReporter::~ProgressReporter() { Stop(); }

void ProgressReporter::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopped_ = true;
  }
  if (ticker_.joinable()) {
    ticker_.join();
  }
}

absl::Duration ProgressReporter::Elapsed() const {
  return absl::FromChrono(std::chrono::steady_clock::now() - start_);
}

void ProgressReporter::BeginPhase(LabPhase phase, uint32_t total) {
  absl::MutexLock lock(&mutex_);
  phase_ = phase;
  phase_total_ = total;
  steps_.store(0, std::memory_order_relaxed);
}

void ProgressReporter::EndPhase() {
  absl::MutexLock lock(&mutex_);
  PublishIfDueLocked(/*phase_end=*/true);
}

LabProgress ProgressReporter::Snapshot() const {
  absl::ReaderMutexLock lock(&mutex_);
  return SnapshotLocked();
}

LabProgress ProgressReporter::SnapshotLocked() const {
  LabProgress progress;
  progress.set_operation(operation_);
  progress.set_phase(phase_);
  progress.set_nodes_done(nodes_.load(std::memory_order_relaxed));
  progress.set_nodes_total(nodes_total_);
  progress.set_links_done(links_.load(std::memory_order_relaxed));
  progress.set_links_total(links_total_);
  switch (phase_) {
    case nslab::v1::LAB_PHASE_NAMESPACES:
    case nslab::v1::LAB_PHASE_NAMESPACE_REMOVAL:
      progress.set_phase_done(progress.nodes_done());
      break;
    case nslab::v1::LAB_PHASE_LINKS:
      progress.set_phase_done(progress.links_done());
      break;
    default:
      progress.set_phase_done(steps_.load(std::memory_order_relaxed));
  }
  progress.set_phase_total(phase_total_);
  progress.set_elapsed_ms(static_cast<uint64_t>(absl::ToInt64Milliseconds(Elapsed())));
  return progress;
}

void ProgressReporter::PublishIfDueLocked(bool phase_end) {
  if (bus_ == nullptr || stopped_ || phase_ == nslab::v1::LAB_PHASE_UNSPECIFIED) {
    return;
  }
  LabProgress progress = SnapshotLocked();
  const absl::Duration elapsed = absl::Milliseconds(progress.elapsed_ms());
  const bool moved = !last_.has_value() || !SameCounts(*last_, progress);
  if (!throttle_.Due(elapsed, phase_end, moved)) {
    return;
  }
  throttle_.Published(elapsed);
  nslab::v1::LabEvent event;
  event.set_lab(lab_);
  event.set_kind(nslab::v1::LAB_EVENT_KIND_PROGRESS);
  event.set_message(ProgressText(progress));
  *event.mutable_progress() = progress;
  last_ = std::move(progress);
  // Under the lock, so that a tick and a phase's end go out in the order they were counted.
  bus_->Publish(std::move(event));
}

void ProgressReporter::Tick() {
  absl::MutexLock lock(&mutex_);
  while (!stopped_) {
    mutex_.AwaitWithTimeout(absl::Condition(&stopped_), ProgressThrottle::kInterval);
    PublishIfDueLocked(/*phase_end=*/false);
  }
}

}  // namespace nslab::events
