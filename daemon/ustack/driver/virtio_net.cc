#include "daemon/ustack/driver/virtio_net.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/tap/vnet_header.h"

namespace nslab::ustack::driver {

absl::StatusOr<std::unique_ptr<VirtioNet>> VirtioNet::create(FramePort& port,
                                                             const NicSettings& settings,
                                                             std::size_t max_frame_len) {
  if (absl::Status status = settings.validate(); !status.ok()) {
    return status;
  }
  absl::StatusOr<EventNotifier> kick = EventNotifier::create();
  if (!kick.ok()) {
    return kick.status();
  }
  absl::StatusOr<EventNotifier> interrupt = EventNotifier::create();
  if (!interrupt.ok()) {
    return interrupt.status();
  }
  std::unique_ptr<VirtioNet> nic(
      new VirtioNet(port, max_frame_len, *std::move(kick), *std::move(interrupt)));
  if (absl::Status status = port.set_offloads(settings.csum_offload, settings.tso); !status.ok()) {
    return status;
  }
  if (absl::Status status = nic->build(settings); !status.ok()) {
    return status;
  }
  return nic;
}

VirtioNet::VirtioNet(FramePort& port, std::size_t max_frame_len, EventNotifier kick,
                     EventNotifier interrupt)
    : port_(port),
      hdr_size_(static_cast<std::size_t>(port.vnet_hdr_size())),
      max_frame_len_(max_frame_len),
      kick_(std::move(kick)),
      interrupt_(std::move(interrupt)) {}

VirtioNet::~VirtioNet() {
  if (queues_) {
    queues_->device->stop();
  }
}

VirtioNet::Queues::Queues(ring::Virtqueue rx_ring_memory, ring::Virtqueue tx_ring_memory,
                          ring::BufferPool rx_pool, ring::BufferPool tx_pool)
    : rx_ring(std::move(rx_ring_memory)),
      tx_ring(std::move(tx_ring_memory)),
      rx_buffers(std::move(rx_pool)),
      tx_buffers(std::move(tx_pool)),
      rx(rx_ring, ring::Suppression::kEventIdx),
      tx(tx_ring, ring::Suppression::kEventIdx),
      device_rings{&rx_ring, &tx_ring, rx_buffers.region(), tx_buffers.region()} {}

absl::Status VirtioNet::build(const NicSettings& settings) {
  std::optional<ring::Virtqueue> rx_ring = ring::Virtqueue::create(settings.rx_ring);
  std::optional<ring::Virtqueue> tx_ring = ring::Virtqueue::create(settings.tx_ring);
  // With tso both directions carry frames of up to 64 KiB; one such buffer per descriptor keeps
  // the one-buffer-per-frame layout (virtio's "big packets" without mergeable buffers).
  const auto buffer_size = static_cast<std::uint32_t>(
      hdr_size_ +
      (settings.tso ? std::max(kMaxSegmentationFrameLen, max_frame_len_) : max_frame_len_));
  std::optional<ring::BufferPool> rx_buffers =
      ring::BufferPool::create(settings.rx_ring, buffer_size);
  std::optional<ring::BufferPool> tx_buffers =
      ring::BufferPool::create(settings.tx_ring, buffer_size);
  absl::StatusOr<EventNotifier> stop = EventNotifier::create();
  if (!rx_ring || !tx_ring || !rx_buffers || !tx_buffers) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate rings of ", settings.rx_ring,
                                                     " rx and ", settings.tx_ring,
                                                     " tx entries; try smaller rings"));
  }
  if (!stop.ok()) {
    return stop.status();
  }
  auto queues = std::make_unique<Queues>(*std::move(rx_ring), *std::move(tx_ring),
                                         *std::move(rx_buffers), *std::move(tx_buffers));
  // The device first: it starts at the rings' indices as they are before the refill.
  queues->device =
      std::make_unique<VirtioNetDevice>(port_.fd(), port_.vnet_hdr_size(), queues->device_rings,
                                        kick_, interrupt_, tuning_, counters_, *std::move(stop));
  queues_ = std::move(queues);
  settings_ = settings;
  tuning_.rx_coalesce_frames.store(settings.rx_coalesce_frames);
  tuning_.rx_coalesce_usecs.store(settings.rx_coalesce_usecs);
  tuning_.csum_offload.store(settings.csum_offload);
  refill_rx();
  queues_->device->start();
  return absl::OkStatus();
}

absl::Status VirtioNet::apply(const NicSettings& settings) {
  if (absl::Status status = settings.validate(); !status.ok()) {
    return status;
  }
  if (settings.csum_offload != settings_.csum_offload || settings.tso != settings_.tso) {
    if (absl::Status status = port_.set_offloads(settings.csum_offload, settings.tso);
        !status.ok()) {
      return status;
    }
  }
  // tso changes the buffers' size, so it rebuilds them as a ring resize does.
  if (settings.rx_ring != settings_.rx_ring || settings.tx_ring != settings_.tx_ring ||
      settings.tso != settings_.tso) {
    const NicSettings previous = settings_;
    queues_->device->stop();
    queues_.reset();
    interrupt_.consume();
    kick_.consume();
    absl::Status status = build(settings);
    if (!status.ok() && build(previous).ok()) {
      port_.set_offloads(previous.csum_offload, previous.tso).IgnoreError();
    }
    return status;
  }
  settings_ = settings;
  tuning_.rx_coalesce_frames.store(settings.rx_coalesce_frames);
  tuning_.rx_coalesce_usecs.store(settings.rx_coalesce_usecs);
  tuning_.csum_offload.store(settings.csum_offload);
  return absl::OkStatus();
}

bool VirtioNet::poll_rx(std::size_t budget, absl::FunctionRef<void(const RxFrame&)> on_frame) {
  interrupt_.consume();
  Queues& q = *queues_;
  std::size_t delivered = 0;
  q.rx.disable_interrupts();
  while (true) {
    while (delivered < budget) {
      const std::optional<ring::DriverQueue::Used> used = q.rx.get_used();
      if (!used) {
        break;
      }
      ++delivered;
      const auto index = static_cast<std::uint32_t>(used->token);
      const std::span<const std::byte> buffer = q.rx_buffers.buffer(index);
      if (used->len > hdr_size_ && used->len <= buffer.size()) {
        const std::uint8_t flags = std::to_integer<std::uint8_t>(buffer[tap::vnet_field::kFlags]);
        const bool trusted =
            (flags & (tap::vnet_flag::kNeedsChecksum | tap::vnet_flag::kDataValid)) != 0;
        const std::size_t frame_len = used->len - hdr_size_;
        if (frame_len > max_frame_len_) {
          counters_.add(&NicCounters::rx_lro_frames);
        }
        on_frame(RxFrame{buffer.subspan(hdr_size_, frame_len), trusted});
      } else if (used->len != 0) {
        counters_.add(&NicCounters::rx_length_errors);
      }
      q.rx_buffers.release(index);
      // Straight back on the ring: while the stack works through a batch the device keeps
      // every descriptor but the one in hand, rather than losing a batch's worth until the
      // batch ends. Only the kick waits for the batch's end (refill_rx).
      post_rx_buffer();
    }
    refill_rx();
    if (delivered >= budget) {
      reclaim_tx();
      return true;
    }
    // Re-arm; frames that slipped in meanwhile would raise no interrupt, so take them now.
    if (q.rx.enable_interrupts()) {
      break;
    }
  }
  reclaim_tx();
  return false;
}

bool VirtioNet::post_rx_buffer() {
  Queues& q = *queues_;
  if (q.rx.num_free() == 0) {
    return false;
  }
  const std::optional<std::uint32_t> index = q.rx_buffers.acquire();
  if (!index) {
    return false;
  }
  const ring::Segment segment = q.rx_buffers.segment(*index);
  q.rx.add({}, {&segment, 1}, *index);
  return true;
}

void VirtioNet::refill_rx() {
  Queues& q = *queues_;
  while (post_rx_buffer()) {
  }
  // The device looks for rx buffers whenever a frame arrives, so it rarely asks for this kick.
  if (q.rx.kick_needed()) {
    counters_.add(&NicCounters::kicks);
    kick_.notify();
  }
}

void VirtioNet::reclaim_tx() {
  Queues& q = *queues_;
  while (const std::optional<ring::DriverQueue::Used> used = q.tx.get_used()) {
    q.tx_buffers.release(static_cast<std::uint32_t>(used->token));
  }
}

bool VirtioNet::transmit(std::size_t frame_len, std::optional<TxChecksumOffload> checksum,
                         std::optional<TxSegmentation> segmentation,
                         absl::FunctionRef<void(packet::MutableBytes)> fill) {
  Queues& q = *queues_;
  const bool segmented = segmentation && checksum && settings_.tso;
  if (frame_len > (segmented ? kMaxSegmentationFrameLen : max_frame_len_) ||
      (segmentation && !segmented)) {
    counters_.add(&NicCounters::tx_errors);
    return false;
  }
  reclaim_tx();
  std::optional<std::uint32_t> index;
  if (q.tx.num_free() == 0 || !(index = q.tx_buffers.acquire())) {
    counters_.add(&NicCounters::tx_queue_full);
    return false;
  }
  const std::span<std::byte> buffer = q.tx_buffers.buffer(*index);
  tap::VnetHeaderRepr header;
  if (checksum) {
    header.flags = tap::vnet_flag::kNeedsChecksum;
    header.csum_start = checksum->start;
    header.csum_offset = checksum->offset;
  }
  if (segmented && frame_len > max_frame_len_) {
    header.gso_type = tap::vnet_gso::kTcpV4;
    header.gso_size = segmentation->mss;
    header.hdr_len = segmentation->header_len;
    counters_.add(&NicCounters::tx_tso_frames);
  }
  if (port_.vnet_hdr_size() == tap::VnetHeaderSize::kWithNumBuffers) {
    header.num_buffers = 0;
  }
  header.Emit(buffer);
  fill(buffer.subspan(hdr_size_, frame_len));
  const ring::Segment segment{q.tx_buffers.segment(*index).addr,
                              static_cast<std::uint32_t>(hdr_size_ + frame_len)};
  q.tx.add({&segment, 1}, {}, *index);
  return true;
}

void VirtioNet::flush_tx() {
  if (queues_->tx.kick_needed()) {
    counters_.add(&NicCounters::kicks);
    kick_.notify();
  }
}

}  // namespace nslab::ustack::driver
