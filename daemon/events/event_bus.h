#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nslab/v1/events.pb.h"

namespace nslab::events {

class EventBus;

// One watcher of one lab: the events published for it since it subscribed, in order, in a
// bounded queue. A watcher that falls behind loses the oldest events, never the newest, and
// is told how many it lost. Unsubscribes when destroyed.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  const std::string& lab() const { return lab_; }

  // The next event, waiting until `deadline` for one; nothing if none came. After the queue
  // overflowed, the first event returned is a notice (kind UNSPECIFIED, lab set) whose message
  // says how many events were dropped there.
  std::optional<nslab::v1::LabEvent> Next(absl::Time deadline);
  // Whether an event (or a notice of dropped ones) is waiting.
  bool HasNext() const;

 private:
  friend class EventBus;
  Subscription(EventBus* bus, std::string lab, size_t limit)
      : bus_(bus), lab_(std::move(lab)), limit_(limit) {}
  // Called by the bus with its lock held; never blocks.
  void Push(const nslab::v1::LabEvent& event);

  EventBus* bus_;
  const std::string lab_;
  const size_t limit_;
  mutable absl::Mutex mutex_;
  std::deque<nslab::v1::LabEvent> queue_ ABSL_GUARDED_BY(mutex_);
  uint64_t dropped_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Where the parts of nslabd announce what happens in labs (LabEvent) and where watchers
// (LabsService.WatchEvents, scenario runs) follow one lab. Publishing never blocks on a
// watcher. Thread-safe; must outlive its subscriptions.
class EventBus {
 public:
  static constexpr size_t kDefaultQueueLimit = 4096;

  // `queue_limit` events wait for each subscriber at most (at least 1).
  explicit EventBus(size_t queue_limit = kDefaultQueueLimit)
      : queue_limit_(queue_limit == 0 ? 1 : queue_limit) {}
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Delivers `event` to every subscriber of event.lab(); stamps its time when unset.
  void Publish(nslab::v1::LabEvent event);
  // Shorthand for the common case.
  void Publish(const std::string& lab, nslab::v1::LabEventKind kind, const std::string& node,
               const std::string& subject, const std::string& message);

  // From now on, every event of `lab` until the subscription is destroyed.
  std::unique_ptr<Subscription> Subscribe(const std::string& lab);

  // How many subscriptions exist (for tests and diagnostics).
  size_t SubscriberCount() const;

 private:
  friend class Subscription;
  void Unsubscribe(Subscription* subscription);

  const size_t queue_limit_;
  mutable absl::Mutex mutex_;
  std::multimap<std::string, Subscription*> subscribers_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::events
