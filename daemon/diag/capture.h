#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nslab::diag {

struct CaptureOptions {
  std::string interface;  // "any" for every interface of the namespace
  std::string filter;     // BPF in tcpdump syntax; empty = everything
  uint32_t snaplen = 262144;
  int buffer_bytes = 16 << 20;
  // Deliver each packet as it arrives (latency) rather than in kernel blocks (throughput).
  bool immediate = true;
};

struct CaptureStats {
  uint64_t received = 0;
  uint64_t dropped = 0;            // the socket buffer was full
  uint64_t interface_dropped = 0;  // the driver dropped
};

// A libpcap handle (AF_PACKET) opened inside a namespace: it is activated on a thread that
// has entered the namespace, and the socket stays bound to it. Armed once Open returns.
class PacketCapture {
 public:
  using PacketFn = std::function<void(const pcap_pkthdr& header, const u_char* data)>;

  // NOT_FOUND for an interface the namespace lacks; INVALID_ARGUMENT with libpcap's
  // message for a filter that does not compile.
  static absl::StatusOr<PacketCapture> Open(int netns_fd, const CaptureOptions& options);

  int link_type() const { return pcap_datalink(handle_.get()); }
  uint32_t snaplen() const { return static_cast<uint32_t>(pcap_snapshot(handle_.get())); }

  // Waits up to `timeout` for packets and hands at most `max` (0: all ready) to `fn`.
  // Returns how many were handed over.
  absl::StatusOr<int> Poll(absl::Duration timeout, int max, const PacketFn& fn);

  CaptureStats Stats() const;

 private:
  struct Close {
    void operator()(pcap_t* handle) const { pcap_close(handle); }
  };
  explicit PacketCapture(pcap_t* handle) : handle_(handle) {}
  std::unique_ptr<pcap_t, Close> handle_;
};

}  // namespace nslab::diag
