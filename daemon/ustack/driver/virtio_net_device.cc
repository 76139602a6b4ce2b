#include "daemon/ustack/driver/virtio_net_device.h"

#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "daemon/ustack/driver/rx_checksum.h"

namespace nslab::ustack::driver {
namespace {

// Large enough for any frame a TAP can hand over without GSO (which is never negotiated).
constexpr std::size_t kDropBufferSize = 65536 + 64;

}  // namespace

VirtioNetDevice::VirtioNetDevice(int frame_fd, tap::VnetHeaderSize hdr_size,
                                 const DeviceRings& rings, const EventNotifier& kick,
                                 const EventNotifier& interrupt, const DeviceTuning& tuning,
                                 NicCounters& counters, EventNotifier stop)
    : fd_(frame_fd),
      hdr_size_(static_cast<std::size_t>(hdr_size)),
      rings_(rings),
      kick_(kick),
      interrupt_(interrupt),
      tuning_(tuning),
      counters_(counters),
      stop_(std::move(stop)),
      rx_(*rings.rx, ring::Suppression::kEventIdx),
      tx_(*rings.tx, ring::Suppression::kEventIdx),
      drop_buffer_(kDropBufferSize) {}

VirtioNetDevice::~VirtioNetDevice() { stop(); }

void VirtioNetDevice::start() {
  if (thread_.joinable()) {
    return;
  }
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
}

void VirtioNetDevice::stop() {
  if (!thread_.joinable()) {
    return;
  }
  stopping_.store(true);
  stop_.notify();
  thread_.join();
  stop_.consume();
}

void VirtioNetDevice::run() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    const bool tx_busy = drain_tx();
    const bool rx_busy = drain_rx();
    const std::optional<Clock::duration> coalesce_wait = signal_rx(Clock::now());
    if (tx_busy || rx_busy) {
      continue;
    }
    // Ask for a kick before sleeping; chains that arrived meanwhile are drained first, or their
    // kick would never come.
    if (!tx_.enable_notifications()) {
      continue;
    }
    pollfd fds[] = {{fd_, POLLIN, 0}, {kick_.fd(), POLLIN, 0}, {stop_.fd(), POLLIN, 0}};
    timespec timeout{};
    timespec* timeout_ptr = nullptr;
    if (coalesce_wait) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*coalesce_wait).count();
      timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      timeout_ptr = &timeout;
    }
    if (::ppoll(fds, 3, timeout_ptr, nullptr) < 0 && errno != EINTR) {
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      kick_.consume();
    }
  }
}

bool VirtioNetDevice::drain_tx() {
  int moved = 0;
  while (moved < kBatch) {
    const std::optional<ring::Chain> chain = tx_.pop(tx_scratch_);
    if (!chain) {
      break;
    }
    ++moved;
    std::array<iovec, kMaxChain> iov{};
    std::size_t total = 0;
    bool valid = !chain->readable.empty();
    for (std::size_t i = 0; i < chain->readable.size() && valid; ++i) {
      const auto bytes =
          rings_.tx_memory.translate(chain->readable[i].addr, chain->readable[i].len);
      valid = bytes.has_value();
      if (valid) {
        iov[i] = {bytes->data(), bytes->size()};
        total += bytes->size();
      }
    }
    if (!valid || total < hdr_size_ ||
        ::writev(fd_, iov.data(), static_cast<int>(chain->readable.size())) < 0) {
      counters_.add(&NicCounters::tx_errors);
    } else {
      counters_.add(&NicCounters::tx_packets);
      counters_.add(&NicCounters::tx_bytes, total - hdr_size_);
    }
    tx_.push_used(chain->head, 0);
  }
  // The driver reclaims tx buffers when it sends; it wants no interrupt for them and has not
  // asked for one, so a suppressed tx interrupt is not worth counting.
  if (moved > 0 && tx_.interrupt_needed()) {
    counters_.add(&NicCounters::interrupts);  // before the driver can see the interrupt
    interrupt_.notify();
  }
  return moved == kBatch;
}

bool VirtioNetDevice::drain_rx() {
  for (int moved = 0; moved < kBatch; ++moved) {
    if (!held_rx_) {
      held_rx_ = rx_.pop(rx_scratch_);
    }
    if (!held_rx_) {
      const ssize_t n = ::read(fd_, drop_buffer_.data(), drop_buffer_.size());
      if (n < 0) {
        return false;
      }
      counters_.add(&NicCounters::rx_missed_errors);
      continue;
    }
    std::array<iovec, kMaxChain> iov{};
    bool valid = !held_rx_->writable.empty();
    for (std::size_t i = 0; i < held_rx_->writable.size() && valid; ++i) {
      const auto bytes =
          rings_.rx_memory.translate(held_rx_->writable[i].addr, held_rx_->writable[i].len);
      valid = bytes.has_value();
      if (valid) {
        iov[i] = {bytes->data(), bytes->size()};
      }
    }
    if (!valid) {
      // A chain we cannot write: hand it back empty rather than keep it forever.
      counters_.add(&NicCounters::rx_length_errors);
      rx_.push_used(held_rx_->head, 0);
      held_rx_.reset();
      continue;
    }
    const ssize_t n = ::readv(fd_, iov.data(), static_cast<int>(held_rx_->writable.size()));
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return false;
      }
      // The frame did not fit (the TAP consumed it anyway); the chain waits for the next one.
      counters_.add(&NicCounters::rx_length_errors);
      continue;
    }
    if (static_cast<std::size_t>(n) <= hdr_size_) {
      counters_.add(&NicCounters::rx_length_errors);
      continue;
    }
    deliver_rx(*held_rx_, static_cast<std::size_t>(n));
    held_rx_.reset();
  }
  return true;
}

void VirtioNetDevice::deliver_rx(const ring::Chain& chain, std::size_t length) {
  const ring::Segment& first = chain.writable.front();
  // Checksum offload looks at the frame as a NIC would; our driver posts one segment per frame,
  // anything else is delivered unverified.
  if (tuning_.csum_offload.load(std::memory_order_relaxed) && first.len >= length) {
    const std::span<std::byte> buffer = *rings_.rx_memory.translate(first.addr, first.len);
    const std::uint8_t flags = std::to_integer<std::uint8_t>(buffer[tap::vnet_field::kFlags]);
    if (flags == 0) {
      switch (verify_rx_checksum(buffer.subspan(hdr_size_, length - hdr_size_))) {
        case RxChecksumVerdict::kValid:
          buffer[tap::vnet_field::kFlags] = std::byte{tap::vnet_flag::kDataValid};
          break;
        case RxChecksumVerdict::kInvalid:
          counters_.add(&NicCounters::rx_csum_errors);
          break;
        case RxChecksumVerdict::kNotApplicable:
          break;
      }
    }
  }
  counters_.add(&NicCounters::rx_packets);
  counters_.add(&NicCounters::rx_bytes, length - hdr_size_);
  rx_.push_used(chain.head, static_cast<std::uint32_t>(length));
  if (unsignalled_rx_++ == 0) {
    first_unsignalled_rx_ = Clock::now();
  }
}

std::optional<VirtioNetDevice::Clock::duration> VirtioNetDevice::signal_rx(Clock::time_point now) {
  if (unsignalled_rx_ == 0) {
    return std::nullopt;
  }
  const std::uint32_t frames = std::max<std::uint32_t>(1, tuning_.rx_coalesce_frames.load());
  const auto usecs = std::chrono::microseconds(tuning_.rx_coalesce_usecs.load());
  const auto deadline = first_unsignalled_rx_ + usecs;
  if (unsignalled_rx_ < frames && usecs.count() != 0 && now < deadline) {
    return deadline - now;
  }
  unsignalled_rx_ = 0;
  if (rx_.interrupt_needed()) {
    counters_.add(&NicCounters::interrupts);  // before the driver can see the interrupt
    interrupt_.notify();
  } else {
    counters_.add(&NicCounters::interrupts_suppressed);
  }
  return std::nullopt;
}

}  // namespace nslab::ustack::driver
