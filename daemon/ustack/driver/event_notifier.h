#pragma once

// The doorbell between the driver thread and the device thread: an eventfd, as a virtio
// transport's kick (driver -> device) and interrupt (device -> driver) would be. A thread
// sleeps in poll() on fd() and consume()s the notification when it wakes.

#include "absl/status/statusor.h"
#include "daemon/tap/owned_fd.h"

namespace nslab::ustack::driver {

class EventNotifier {
 public:
  static absl::StatusOr<EventNotifier> create();

  // Safe from any thread; notifications before the next consume() merge into one.
  void notify() const;
  // Clears the pending notification; false when there was none.
  bool consume() const;
  int fd() const { return fd_.get(); }

 private:
  explicit EventNotifier(tap::OwnedFd fd) : fd_(std::move(fd)) {}
  tap::OwnedFd fd_;
};

}  // namespace nslab::ustack::driver
