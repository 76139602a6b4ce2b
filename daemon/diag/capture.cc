#include "daemon/diag/capture.h"

#include <poll.h>

#include "absl/strings/str_cat.h"
#include "daemon/netns/netns.h"

namespace nslab::diag {
namespace {

absl::Status ActivateError(pcap_t* handle, int code, const std::string& interface) {
  const std::string detail = pcap_geterr(handle);
  switch (code) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return absl::NotFoundError(
          absl::StrCat("interface ", interface, ": no such interface in the node (", detail, ")"));
    case PCAP_ERROR_PERM_DENIED:
      return absl::PermissionDeniedError(
          absl::StrCat("capture on ", interface, ": ", detail, " (nslabd needs CAP_NET_RAW)"));
    case PCAP_ERROR_IFACE_NOT_UP:
      return absl::FailedPreconditionError(
          absl::StrCat("interface ", interface, " is down; bring it up to capture"));
    default:
      return absl::InternalError(absl::StrCat("capture on ", interface, ": ", detail));
  }
}

struct DispatchContext {
  const PacketCapture::PacketFn* fn;
  int count = 0;
};

void OnPacket(u_char* user, const pcap_pkthdr* header, const u_char* data) {
  auto* context = reinterpret_cast<DispatchContext*>(user);
  (*context->fn)(*header, data);
  ++context->count;
}

}  // namespace

absl::StatusOr<PacketCapture> PacketCapture::Open(int netns_fd, const CaptureOptions& options) {
  if (options.interface.empty()) {
    return absl::InvalidArgumentError("interface: give the interface to capture on (or \"any\")");
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* raw = pcap_create(options.interface.c_str(), error);
  if (raw == nullptr) {
    return absl::InternalError(absl::StrCat("pcap_create ", options.interface, ": ", error));
  }
  PacketCapture capture(raw);
  pcap_set_snaplen(raw, static_cast<int>(options.snaplen));
  pcap_set_promisc(raw, 0);
  pcap_set_buffer_size(raw, options.buffer_bytes);
  pcap_set_timeout(raw, 20);
  pcap_set_immediate_mode(raw, options.immediate ? 1 : 0);
  pcap_set_tstamp_precision(raw, PCAP_TSTAMP_PRECISION_MICRO);
  int activated = 0;
  auto status = netns::RunIn(netns_fd, [&] {
    activated = pcap_activate(raw);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  if (activated < 0) {
    return ActivateError(raw, activated, options.interface);
  }
  if (!options.filter.empty()) {
    bpf_program program{};
    if (pcap_compile(raw, &program, options.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter \"", options.filter, "\": ", pcap_geterr(raw)));
    }
    const int set = pcap_setfilter(raw, &program);
    pcap_freecode(&program);
    if (set != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter \"", options.filter, "\": ", pcap_geterr(raw)));
    }
  }
  if (pcap_setnonblock(raw, 1, error) != 0) {
    return absl::InternalError(absl::StrCat("pcap_setnonblock: ", error));
  }
  return capture;
}

absl::StatusOr<int> PacketCapture::Poll(absl::Duration timeout, int max, const PacketFn& fn) {
  DispatchContext context{&fn};
  // Packets may already be waiting; only sleep when none are.
  int got = pcap_dispatch(handle_.get(), max > 0 ? max : -1, OnPacket,
                          reinterpret_cast<u_char*>(&context));
  if (got < 0) {
    return absl::InternalError(absl::StrCat("pcap_dispatch: ", pcap_geterr(handle_.get())));
  }
  if (got > 0 || timeout <= absl::ZeroDuration()) {
    return context.count;
  }
  pollfd fd{pcap_get_selectable_fd(handle_.get()), POLLIN, 0};
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  if (::poll(&fd, 1, ms) < 0 && errno != EINTR) {
    return absl::InternalError("poll on capture socket failed");
  }
  got = pcap_dispatch(handle_.get(), max > 0 ? max : -1, OnPacket,
                      reinterpret_cast<u_char*>(&context));
  if (got < 0) {
    return absl::InternalError(absl::StrCat("pcap_dispatch: ", pcap_geterr(handle_.get())));
  }
  return context.count;
}

CaptureStats PacketCapture::Stats() const {
  pcap_stat stat{};
  CaptureStats result;
  if (pcap_stats(handle_.get(), &stat) == 0) {
    result.received = stat.ps_recv;
    result.dropped = stat.ps_drop;
    result.interface_dropped = stat.ps_ifdrop;
  }
  return result;
}

}  // namespace nslab::diag
