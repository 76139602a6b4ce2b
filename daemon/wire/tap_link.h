#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/impair/rng.h"
#include "daemon/tap/tap_device.h"
#include "daemon/wire/pipeline.h"
#include "nslab/v1/topology.pb.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace nslab::wire {

using impair::Direction;
using tap::MacAddress;

struct WireLinkSpec {
  // The seed of each direction is SeedFor(lab_seed, link_name, direction): the same lab seed
  // and link name replay the same fates for the frames of each traffic class, whatever else
  // crosses the link and whichever daemon runs it (impair::FateEngine).
  uint64_t lab_seed = 0;
  std::string link_name;
  // Namespace fds, only used (not kept) during Create.
  int ns_a = -1;
  std::string ifname_a;
  int ns_b = -1;
  std::string ifname_b;
  nslab::v1::Impairment a_to_b;
  nslab::v1::Impairment b_to_a;
  // Each direction's flows (ImpairmentPipeline::SetFlows), in the order they are tried.
  std::vector<FlowRule> a_to_b_flows;
  std::vector<FlowRule> b_to_a_flows;
  // Set on both TAPs; frames up to mtu + 18 (Ethernet header and one VLAN tag) are carried.
  uint32_t mtu = 1500;
  std::optional<MacAddress> mac_a;
  std::optional<MacAddress> mac_b;
  // IFF_UP on both TAPs once created. The daemon may leave this off and bring them up with its
  // netlink layer after the addresses are in.
  bool up = true;
  // Attach to the TAPs a previous daemon left (tap::OpenMode::kAttach) instead of creating them.
  bool reattach = false;
};

// What one direction did: the pipeline's own counters and what happened at the TAPs around it.
struct WireCounters {
  PipelineCounters pipeline;
  // write() to the receiving TAP failed with EAGAIN/ENOBUFS: the frame is dropped, as a NIC
  // drops what its ring cannot take; the wire never blocks or queues behind a full device.
  uint64_t tx_dropped = 0;
  // Other write errors, mostly EIO while the receiving TAP is administratively down.
  uint64_t tx_errors = 0;
  // read() errors on the sending TAP other than EAGAIN. After EBADFD (the device was removed,
  // e.g. with its namespace) the direction stops reading.
  uint64_t rx_errors = 0;
  // Forwarded frames that were TSO/GSO super-frames (up to 64 KiB, cut into MTU-sized segments
  // only by the receiving side), which an unimpaired direction lets through whole.
  uint64_t super_frames = 0;
  // Super-frames the kernel had queued before an impairment turned offloads off: no slot holds
  // them and cutting them up here would be a second TCP stack, so they are dropped (the sender
  // retransmits their segments), as a link change in the middle of a burst would.
  uint64_t dropped_super_frames = 0;
  // Whether the sending TAP offers offloads now (the direction is unimpaired and idle).
  bool offloads = false;
  // Each flow's share of `pipeline`, in flow order.
  std::vector<PipelineCounters> flows;
};

enum class StopMode : uint8_t {
  // Closes the fds; the persistent TAPs stay (carrier off) for a later `reattach`.
  kKeepDevices,
  // Clears TUNSETPERSIST first, so the kernel removes both TAPs as the fds close.
  kDeleteDevices,
};

// A userspace wire: a TAP in namespace A, a TAP in namespace B, and one ImpairmentPipeline per
// direction between them, driven by a boost::asio::io_context the caller runs. A link owns no
// thread; one io_context thread can serve many links (each link is a strand, so an io_context
// run by several threads also works).
//
// Per direction, on the strand: wait until the sending TAP is readable, read() frames until
// EAGAIN (at most a batch, so busy links take turns), Offer() each one to the pipeline at the
// time it was read, hand what is due at once to the receiving TAP, and arm a steady_timer at
// NextDeadline() for the rest. Frames live in the pipeline's preallocated slots and a per-
// direction read buffer: no allocation per frame.
//
// Offloads: the TAPs carry a virtio-net header (IFF_VNET_HDR). While a direction is unimpaired
// and holds nothing, its sending TAP offers checksum offload and TSO, and frames (super-frames
// of up to 64 KiB with partial checksums) go straight to the receiving TAP with their header,
// as a veth pair passes GSO packets: this is what makes an unimpaired wire fast. As soon as a
// direction is impaired its offloads go off, so every frame is one MTU-sized packet with a
// complete checksum, and loss, rate, delay and corruption act per packet as on a real link.
//
// Control calls (SetImpairment, SetUp, Stop) may come from any thread, e.g. gRPC's: they are
// posted to the link's strand and wait until it ran them (up to a few seconds, kControlTimeout
// in the .cc), so when SetImpairment returns the next frame follows the new impairment. On the
// link's strand they run inline; from another handler of the same io_context they are queued
// and return at once (waiting there could block the thread that must run them). The
// io_context must be running for a waiting call to complete, and must outlive the link.
// Counters() never waits: it reads a snapshot the strand publishes after each batch.
//
// The TAP fds hold their namespaces: a namespace whose name is deleted while its link runs
// lives on (hidden) until Stop() closes the fds. Stop links before deleting their namespaces.
class WireLink {
 public:
  // Creates (or reattaches to) both TAPs and builds the pipelines; starts forwarding as soon as
  // the io_context runs. On error nothing created stays behind.
  static absl::StatusOr<std::unique_ptr<WireLink>> Create(boost::asio::io_context& io,
                                                          const WireLinkSpec& spec);

  WireLink(const WireLink&) = delete;
  WireLink& operator=(const WireLink&) = delete;
  // Stop(kKeepDevices) unless stopped before.
  ~WireLink();

  // Validated (and a trace file loaded) on the calling thread; on error nothing changes.
  // Frames in flight keep their times.
  absl::Status SetImpairment(Direction direction, const nslab::v1::Impairment& impairment);
  // Replaces a direction's flows (ImpairmentPipeline::SetFlows); on error nothing changes.
  absl::Status SetFlows(Direction direction, std::vector<FlowRule> flows);

  // Down: frames in flight are lost and new ones dropped in both directions (counted as
  // dropped_link_down), as on a pulled cable. The TAPs themselves stay up.
  absl::Status SetUp(bool up);

  WireCounters Counters(Direction direction) const;

  // Stops forwarding and closes both TAP fds. Idempotent; later control calls fail with
  // FAILED_PRECONDITION.
  absl::Status Stop(StopMode mode = StopMode::kKeepDevices);

  const std::string& name() const { return name_; }

 private:
  class Core;  // the state the strand owns, shared with the handlers in flight

  WireLink(std::string name, std::shared_ptr<Core> core)
      : name_(std::move(name)), core_(std::move(core)) {}

  std::string name_;
  std::shared_ptr<Core> core_;
};

}  // namespace nslab::wire
