#include "daemon/events/event_bus.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"

namespace nslab::events {

Subscription::~Subscription() { bus_->Unsubscribe(this); }

void Subscription::Push(const nslab::v1::LabEvent& event) {
  absl::MutexLock lock(&mutex_);
  if (queue_.size() >= limit_) {
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(event);
}

bool Subscription::HasNext() const {
  absl::MutexLock lock(&mutex_);
  return dropped_ != 0 || !queue_.empty();
}

std::optional<nslab::v1::LabEvent> Subscription::Next(absl::Time deadline) {
  absl::MutexLock lock(&mutex_);
  auto waiting = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return dropped_ != 0 || !queue_.empty();
  };
  if (!mutex_.AwaitWithDeadline(absl::Condition(&waiting), deadline)) {
    return std::nullopt;
  }
  if (dropped_ != 0) {
    // The dropped events were the oldest: the gap is before everything still queued.
    nslab::v1::LabEvent notice;
    *notice.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
    notice.set_lab(lab_);
    notice.set_kind(nslab::v1::LAB_EVENT_KIND_UNSPECIFIED);
    notice.set_message(absl::StrCat(dropped_, " event", dropped_ == 1 ? " was" : "s were",
                                    " dropped here: this watcher read too slowly"));
    dropped_ = 0;
    return notice;
  }
  nslab::v1::LabEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

EventBus::~EventBus() = default;

void EventBus::Publish(nslab::v1::LabEvent event) {
  if (!event.has_time()) {
    *event.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  }
  absl::ReaderMutexLock lock(&mutex_);
  auto [begin, end] = subscribers_.equal_range(event.lab());
  for (auto it = begin; it != end; ++it) {
    it->second->Push(event);
  }
}

void EventBus::Publish(const std::string& lab, nslab::v1::LabEventKind kind,
                       const std::string& node, const std::string& subject,
                       const std::string& message) {
  nslab::v1::LabEvent event;
  event.set_lab(lab);
  event.set_kind(kind);
  event.set_node(node);
  event.set_subject(subject);
  event.set_message(message);
  Publish(std::move(event));
}

std::unique_ptr<Subscription> EventBus::Subscribe(const std::string& lab) {
  std::unique_ptr<Subscription> subscription(new Subscription(this, lab, queue_limit_));
  absl::MutexLock lock(&mutex_);
  subscribers_.emplace(lab, subscription.get());
  return subscription;
}

size_t EventBus::SubscriberCount() const {
  absl::ReaderMutexLock lock(&mutex_);
  return subscribers_.size();
}

void EventBus::Unsubscribe(Subscription* subscription) {
  absl::MutexLock lock(&mutex_);
  auto [begin, end] = subscribers_.equal_range(subscription->lab());
  for (auto it = begin; it != end; ++it) {
    if (it->second == subscription) {
      subscribers_.erase(it);
      return;
    }
  }
}

}  // namespace nslab::events
