#include "daemon/wire/tap_link.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <span>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
#include <vector>

#include <boost/asio.hpp>

#include "absl/strings/str_cat.h"
#include "daemon/common/log.h"
#include "daemon/impair/spec.h"
#include "daemon/tap/vnet_header.h"
#include "daemon/wire/netns_tap.h"

namespace nslab::wire {
namespace {

namespace asio = boost::asio;

// Frames read per wake-up of one direction before the strand lets other work run; a link
// saturating its TAP must not starve the other links of the same io_context thread.
constexpr int kReadBatch = 64;

// How long a control call waits for the strand. The strand runs it within microseconds when
// the io_context is running; the bound only keeps a caller from hanging on a stopped one.
constexpr std::chrono::seconds kControlTimeout{5};

// Ethernet header plus one VLAN tag above the MTU; never less than the pipeline's default.
size_t MaxFrameBytes(uint32_t mtu) { return std::max<size_t>(2048, size_t{mtu} + 18); }

// The largest frame a TAP with TSO hands over: a GSO packet of up to 64 KiB (the tun device's
// gso_max_size) plus Ethernet header and VLAN tag.
constexpr size_t kMaxSuperFrameBytes = 65536 + 18;

// The wire's TAPs carry the 10-byte virtio-net header (no mergeable-buffer count).
constexpr tap::VnetHeaderSize kVnetHeaderSize = tap::VnetHeaderSize::kBasic;
constexpr size_t kVnetHeaderBytes = static_cast<size_t>(kVnetHeaderSize);

// Written before frames that went through the pipeline: no offload, the checksum is complete.
constexpr std::array<std::byte, kVnetHeaderBytes> kPlainVnetHeader{};

// With offloads on, the sending TAP hands over TSO super-frames (IPv4 and IPv6) with partial
// checksums; off, the kernel segments and checksums every frame before the wire reads it.
constexpr tap::Offloads kPassThroughOffloads{
    .checksum = true, .tso4 = true, .tso6 = true, .tso_ecn = true};

size_t Index(Direction direction) { return static_cast<size_t>(direction); }

}  // namespace

class WireLink::Core : public std::enable_shared_from_this<WireLink::Core> {
 public:
  Core(std::string name, asio::io_context& io, tap::TapDevice a, tap::TapDevice b,
       ImpairmentPipeline a_to_b, ImpairmentPipeline b_to_a, size_t max_frame_bytes)
      : name_(std::move(name)),
        strand_(asio::make_strand(io)),
        taps_{std::move(a), std::move(b)},
        paths_{Path(strand_, std::move(a_to_b), max_frame_bytes),
               Path(strand_, std::move(b_to_a), max_frame_bytes)} {}

  ~Core() {
    // The descriptors only borrow the TAP fds; release() keeps them from closing what
    // TapDevice closes (the core dies here only if Stop never ran, e.g. the io_context was
    // destroyed with our handlers still queued).
    for (Path& path : paths_) {
      if (path.source.is_open()) {
        path.source.release();
      }
    }
  }

  absl::Status Start() {
    for (Direction direction : {Direction::kAToB, Direction::kBToA}) {
      Path& path = paths_[Index(direction)];
      boost::system::error_code ec;
      path.source.assign(SourceTap(direction).fd(), ec);
      if (ec) {
        return absl::InternalError(absl::StrCat("wire link ", name_, ": TAP ",
                                                SourceTap(direction).name(),
                                                ": asio descriptor: ", ec.message()));
      }
      path.sink_fd = SinkTap(direction).fd();
      UpdateOffloads(direction);
      Publish(direction);
    }
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->WaitReadable(Direction::kAToB);
      self->WaitReadable(Direction::kBToA);
    });
    return absl::OkStatus();
  }

  // Runs `work` on the strand and waits for it; inline when already there.
  absl::Status RunOnStrand(std::function<absl::Status(Core&)> work) {
    if (strand_.running_in_this_thread()) {
      return work(*this);
    }
    if (strand_.get_inner_executor().running_in_this_thread()) {
      // Another handler of this io_context: waiting could block the very thread that has to
      // run the work. It is queued behind what the strand has already and reported done.
      asio::post(strand_, [self = shared_from_this(), work = std::move(work)] {
        work(*self).IgnoreError();
      });
      return absl::OkStatus();
    }
    auto result = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> done = result->get_future();
    asio::post(strand_, [self = shared_from_this(), work = std::move(work), result] {
      result->set_value(work(*self));
    });
    if (done.wait_for(kControlTimeout) != std::future_status::ready) {
      return absl::DeadlineExceededError(
          absl::StrCat("wire link ", name_,
                       ": the io_context did not run the change in time (is it running?); it "
                       "stays queued"));
    }
    return done.get();
  }

  // --- On the strand only, from here on. ---

  absl::Status SetSpec(Direction direction, impair::ImpairmentSpec spec) {
    if (stopped_) {
      return absl::FailedPreconditionError(absl::StrCat("wire link ", name_, " is stopped"));
    }
    Path& path = paths_[Index(direction)];
    path.pipeline.SetSpec(std::move(spec));
    UpdateOffloads(direction);
    // Held frames keep their times, but a newly empty or earlier queue head needs a new wake-up.
    ArmTimer(direction);
    Publish(direction);
    return absl::OkStatus();
  }

  absl::Status SetFlows(Direction direction, const std::vector<FlowRule>& flows) {
    if (stopped_) {
      return absl::FailedPreconditionError(absl::StrCat("wire link ", name_, " is stopped"));
    }
    Path& path = paths_[Index(direction)];
    if (absl::Status status = path.pipeline.SetFlows(flows); !status.ok()) {
      return absl::Status(status.code(), absl::StrCat("wire link ", name_, ": ", status.message()));
    }
    UpdateOffloads(direction);
    ArmTimer(direction);
    Publish(direction);
    return absl::OkStatus();
  }

  absl::Status SetLinkUp(bool up) {
    if (stopped_) {
      return absl::FailedPreconditionError(absl::StrCat("wire link ", name_, " is stopped"));
    }
    for (Direction direction : {Direction::kAToB, Direction::kBToA}) {
      Path& path = paths_[Index(direction)];
      path.pipeline.SetLinkUp(up);
      if (!up) {
        path.timer.cancel();
        path.armed.reset();
      }
      UpdateOffloads(direction);
      Publish(direction);
    }
    return absl::OkStatus();
  }

  absl::Status Close(StopMode mode) {
    if (stopped_) {
      return absl::OkStatus();
    }
    stopped_ = true;
    absl::Status status;
    for (Path& path : paths_) {
      path.timer.cancel();
      path.armed.reset();
      if (path.source.is_open()) {
        // Cancels the pending wait (its handler sees stopped_) and hands the fd back to the
        // TapDevice, which closes it below.
        path.source.release();
      }
    }
    for (tap::TapDevice& device : taps_) {
      if (!device.valid()) {
        continue;
      }
      if (mode == StopMode::kDeleteDevices) {
        if (auto deleted = device.DeletePersistent(); !deleted.ok() && status.ok()) {
          status = deleted;
        }
      } else {
        device.Close();
      }
    }
    Publish(Direction::kAToB);
    Publish(Direction::kBToA);
    return status;
  }

  WireCounters Snapshot(Direction direction) const {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return snapshots_[Index(direction)];
  }

 private:
  // One direction: frames read from the source TAP go through the pipeline to the sink TAP.
  struct Path {
    Path(asio::strand<asio::io_context::executor_type>& strand, ImpairmentPipeline p,
         size_t max_frame_bytes)
        : pipeline(std::move(p)),
          source(strand),
          timer(strand),
          // Room for the virtio-net header and a super-frame, and one byte more, so an
          // oversize frame is seen as one (read() on a TAP truncates to the buffer but reports
          // the full length).
          buffer(kVnetHeaderBytes + std::max(max_frame_bytes, kMaxSuperFrameBytes) + 1) {}

    ImpairmentPipeline pipeline;
    asio::posix::stream_descriptor source;
    int sink_fd = -1;
    asio::steady_timer timer;
    std::optional<TimePoint> armed;  // when the timer fires, if it is waiting
    std::vector<std::byte> buffer;
    WireCounters extra;  // only the TAP-side fields are used
    bool failed = false;
    // TUNSETOFFLOAD failed once (an old kernel): the direction stays without offloads.
    bool offloads_unsupported = false;
  };

  tap::TapDevice& SourceTap(Direction direction) {
    return taps_[direction == Direction::kAToB ? 0 : 1];
  }
  tap::TapDevice& SinkTap(Direction direction) {
    return taps_[direction == Direction::kAToB ? 1 : 0];
  }

  void WaitReadable(Direction direction) {
    Path& path = paths_[Index(direction)];
    path.source.async_wait(asio::posix::stream_descriptor::wait_read,
                           asio::bind_executor(strand_, [self = shared_from_this(),
                                                         direction](boost::system::error_code ec) {
                             self->OnReadable(direction, ec);
                           }));
  }

  void OnReadable(Direction direction, boost::system::error_code ec) {
    if (stopped_ || ec == asio::error::operation_aborted) {
      return;
    }
    Path& path = paths_[Index(direction)];
    const int fd = path.source.native_handle();
    bool drained = false;
    for (int i = 0; i < kReadBatch && !drained; ++i) {
      const ssize_t n = ::read(fd, path.buffer.data(), path.buffer.size());
      if (n <= 0) {
        if (n < 0 && errno == EINTR) {
          continue;
        }
        drained = true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          ++path.extra.rx_errors;
          // EBADFD: the device is gone (unregistered under us); waiting again would spin.
          path.failed = errno == EBADFD || errno == EBADF;
        }
        break;
      }
      Receive(path, std::span<std::byte>(path.buffer.data(),
                                         std::min(static_cast<size_t>(n), path.buffer.size())));
    }
    Deliver(direction, std::chrono::steady_clock::now());
    UpdateOffloads(direction);
    ArmTimer(direction);
    Publish(direction);
    if (path.failed) {
      return;
    }
    if (drained) {
      WaitReadable(direction);
    } else {
      // A full batch and maybe more waiting: come back after the work queued meanwhile
      // (other links, timers), without a round through epoll.
      asio::post(strand_,
                 [self = shared_from_this(), direction] { self->OnReadable(direction, {}); });
    }
  }

  void OnTimer(Direction direction, boost::system::error_code ec) {
    if (stopped_ || ec == asio::error::operation_aborted) {
      return;
    }
    paths_[Index(direction)].armed.reset();
    Deliver(direction, std::chrono::steady_clock::now());
    UpdateOffloads(direction);
    ArmTimer(direction);
    Publish(direction);
  }

  // One read from the source TAP: the virtio-net header, then the frame.
  void Receive(Path& path, std::span<std::byte> read) {
    const auto header = tap::VnetHeaderView<tap::ConstBytes>::Checked(read, kVnetHeaderSize);
    if (!header) {
      ++path.extra.rx_errors;
      return;
    }
    const std::span<std::byte> frame = read.subspan(kVnetHeaderBytes);
    if (path.pipeline.passes_through()) {
      // Header and all: the receiving TAP takes the super-frame or partial checksum as is.
      const iovec whole{read.data(), read.size()};
      path.pipeline.CountPassedThrough(frame.size());
      if (WriteToSink(path, {&whole, 1}) && header->is_gso()) {
        ++path.extra.super_frames;
      }
      return;
    }
    if (header->is_gso() && path.pipeline.link_up()) {
      ++path.extra.dropped_super_frames;
      return;
    }
    if (header->needs_checksum() &&
        !tap::CompleteChecksum(frame, header->csum_start(), header->csum_offset())) {
      ++path.extra.rx_errors;
      return;
    }
    path.pipeline.Offer(frame, std::chrono::steady_clock::now());
  }

  // Writes every frame due by `now` to the sink TAP.
  void Deliver(Direction direction, TimePoint now) {
    Path& path = paths_[Index(direction)];
    path.pipeline.PopDue(now, [&path](std::span<const std::byte> frame, TimePoint) {
      const std::array<iovec, 2> parts{
          iovec{const_cast<std::byte*>(kPlainVnetHeader.data()), kPlainVnetHeader.size()},
          iovec{const_cast<std::byte*>(frame.data()), frame.size()}};
      WriteToSink(path, parts);
    });
  }

  // False when the receiving TAP refused the frame (counted).
  static bool WriteToSink(Path& path, std::span<const iovec> parts) {
    while (true) {
      if (::writev(path.sink_fd, parts.data(), static_cast<int>(parts.size())) >= 0) {
        return true;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        ++path.extra.tx_dropped;
      } else {
        ++path.extra.tx_errors;
      }
      return false;
    }
  }

  // Offloads on the sending TAP exactly while the direction passes frames through.
  void UpdateOffloads(Direction direction) {
    Path& path = paths_[Index(direction)];
    const bool wanted = path.pipeline.passes_through() && !path.offloads_unsupported;
    if (wanted == path.extra.offloads) {
      return;
    }
    if (auto status =
            SourceTap(direction).SetOffloads(wanted ? kPassThroughOffloads : tap::Offloads{});
        !status.ok()) {
      if (wanted) {
        NSLAB_LOG(Warning) << "wire " << name_ << ": no offloads, every frame is forwarded "
                           << "MTU-sized: " << status.message();
        path.offloads_unsupported = true;
      }
      return;
    }
    path.extra.offloads = wanted;
  }

  // Makes sure the timer fires by the pipeline's next deadline. A timer already due earlier is
  // left alone (it fires, delivers nothing, and re-arms), so a steady stream of equally delayed
  // frames arms the timer once per head frame rather than once per frame.
  void ArmTimer(Direction direction) {
    Path& path = paths_[Index(direction)];
    const std::optional<TimePoint> next = path.pipeline.NextDeadline();
    if (!next || (path.armed && *path.armed <= *next)) {
      return;
    }
    path.armed = next;
    path.timer.expires_at(*next);  // cancels a later wait, whose handler then does nothing
    path.timer.async_wait(asio::bind_executor(
        strand_, [self = shared_from_this(), direction](boost::system::error_code ec) {
          self->OnTimer(direction, ec);
        }));
  }

  void Publish(Direction direction) {
    const Path& path = paths_[Index(direction)];
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    WireCounters& snapshot = snapshots_[Index(direction)];
    std::vector<PipelineCounters> flows = std::move(snapshot.flows);
    snapshot = path.extra;
    snapshot.pipeline = path.pipeline.counters();
    path.pipeline.CopyFlowCounters(&flows);
    snapshot.flows = std::move(flows);
  }

  const std::string name_;
  asio::strand<asio::io_context::executor_type> strand_;
  std::array<tap::TapDevice, 2> taps_;  // a, b
  std::array<Path, 2> paths_;           // indexed by Direction
  bool stopped_ = false;

  mutable std::mutex snapshot_mutex_;
  std::array<WireCounters, 2> snapshots_;
};

absl::StatusOr<std::unique_ptr<WireLink>> WireLink::Create(asio::io_context& io,
                                                           const WireLinkSpec& spec) {
  if (spec.mtu < 68 || spec.mtu > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("wire link ", spec.link_name, ": MTU ", spec.mtu, " outside 68..65535"));
  }
  PipelineOptions options;
  options.max_frame_bytes = MaxFrameBytes(spec.mtu);
  absl::StatusOr<ImpairmentPipeline> a_to_b = ImpairmentPipeline::Create(
      spec.a_to_b, impair::SeedFor(spec.lab_seed, spec.link_name, Direction::kAToB), options);
  if (!a_to_b.ok()) {
    return absl::Status(a_to_b.status().code(), absl::StrCat("wire link ", spec.link_name,
                                                             " a->b: ", a_to_b.status().message()));
  }
  absl::StatusOr<ImpairmentPipeline> b_to_a = ImpairmentPipeline::Create(
      spec.b_to_a, impair::SeedFor(spec.lab_seed, spec.link_name, Direction::kBToA), options);
  if (!b_to_a.ok()) {
    return absl::Status(b_to_a.status().code(), absl::StrCat("wire link ", spec.link_name,
                                                             " b->a: ", b_to_a.status().message()));
  }
  if (absl::Status status = a_to_b->SetFlows(spec.a_to_b_flows); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("wire link ", spec.link_name, " a->b: ", status.message()));
  }
  if (absl::Status status = b_to_a->SetFlows(spec.b_to_a_flows); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("wire link ", spec.link_name, " b->a: ", status.message()));
  }

  auto open = [&spec](int ns, const std::string& ifname,
                      const std::optional<MacAddress>& mac) -> absl::StatusOr<tap::TapDevice> {
    tap::TapOptions tap_options;
    tap_options.mode = spec.reattach ? tap::OpenMode::kAttach : tap::OpenMode::kCreate;
    tap_options.persistent = true;
    tap_options.vnet_header = kVnetHeaderSize;
    tap_options.mtu = spec.mtu;
    tap_options.mac = mac;
    tap_options.up = spec.up;
    return OpenTapInNetns(ns, ifname, tap_options);
  };
  absl::StatusOr<tap::TapDevice> a = open(spec.ns_a, spec.ifname_a, spec.mac_a);
  if (!a.ok()) {
    return a.status();
  }
  absl::StatusOr<tap::TapDevice> b = open(spec.ns_b, spec.ifname_b, spec.mac_b);
  if (!b.ok()) {
    if (!spec.reattach) {
      a->DeletePersistent().IgnoreError();
    }
    return b.status();
  }

  auto core =
      std::make_shared<Core>(spec.link_name, io, *std::move(a), *std::move(b), *std::move(a_to_b),
                             *std::move(b_to_a), options.max_frame_bytes);
  if (auto status = core->Start(); !status.ok()) {
    // Nothing was posted yet, so closing from this thread races with no handler.
    core->Close(spec.reattach ? StopMode::kKeepDevices : StopMode::kDeleteDevices).IgnoreError();
    return status;
  }
  return std::unique_ptr<WireLink>(new WireLink(spec.link_name, std::move(core)));
}

WireLink::~WireLink() { Stop(StopMode::kKeepDevices).IgnoreError(); }

absl::Status WireLink::SetImpairment(Direction direction, const nslab::v1::Impairment& impairment) {
  // Compiling may read a trace file: done here, on the caller's thread, not on the strand.
  absl::StatusOr<impair::ImpairmentSpec> spec = impair::CompileImpairment(impairment);
  if (!spec.ok()) {
    return absl::Status(spec.status().code(),
                        absl::StrCat("wire link ", name_, ": ", spec.status().message()));
  }
  return core_->RunOnStrand(
      [direction, spec = *std::move(spec)](Core& core) { return core.SetSpec(direction, spec); });
}

absl::Status WireLink::SetFlows(Direction direction, std::vector<FlowRule> flows) {
  return core_->RunOnStrand([direction, flows = std::move(flows)](Core& core) {
    return core.SetFlows(direction, flows);
  });
}

absl::Status WireLink::SetUp(bool up) {
  return core_->RunOnStrand([up](Core& core) { return core.SetLinkUp(up); });
}

WireCounters WireLink::Counters(Direction direction) const { return core_->Snapshot(direction); }

absl::Status WireLink::Stop(StopMode mode) {
  // The core stays with this object (for Counters) after it is closed; handlers still queued
  // hold references of their own and return at once.
  return core_->RunOnStrand([mode](Core& core) { return core.Close(mode); });
}

}  // namespace nslab::wire
