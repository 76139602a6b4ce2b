#include "daemon/ustack/driver/event_notifier.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nslab::ustack::driver {

absl::StatusOr<EventNotifier> EventNotifier::create() {
  tap::OwnedFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd.valid()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("eventfd: ", std::strerror(errno), " (raise the open-file limit?)"));
  }
  return EventNotifier(std::move(fd));
}

void EventNotifier::notify() const {
  const std::uint64_t one = 1;
  // Only EAGAIN (counter at its maximum, still pending) can fail here, and then the reader will
  // wake anyway.
  [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof(one));
}

bool EventNotifier::consume() const {
  std::uint64_t value = 0;
  return ::read(fd_.get(), &value, sizeof(value)) == static_cast<ssize_t>(sizeof(value));
}

}  // namespace nslab::ustack::driver
