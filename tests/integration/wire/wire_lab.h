#pragma once

// A small lab for the wire-link tests and benchmark: two namespaces this process made (and
// deletes, exactly those), an io_context thread, and traffic helpers whose sockets are opened
// inside a namespace so the test's own threads never switch namespaces.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded
#include <vector>

#include <boost/asio.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/common/fd.h"

namespace nslab::testing {

// "<prefix>-<pid>-<n>": unique across the tests and benchmarks of this host running at once.
std::string UniqueNetnsName(absl::string_view prefix);

// A named namespace (`ip netns` compatible) made for one test, deleted on destruction. IPv6 is
// off inside, so the links carry only the traffic a test sends (no DAD, MLD or router
// solicitations drawing on a seeded loss model), and loopback is up.
class ScopedNamespace {
 public:
  static absl::StatusOr<std::unique_ptr<ScopedNamespace>> Create(std::string name);
  ~ScopedNamespace();
  ScopedNamespace(const ScopedNamespace&) = delete;
  ScopedNamespace& operator=(const ScopedNamespace&) = delete;

  const std::string& name() const { return name_; }
  int fd() const { return fd_.get(); }

 private:
  ScopedNamespace(std::string name, UniqueFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}

  std::string name_;
  UniqueFd fd_;
};

// Runs an io_context on one thread until destroyed (links must be destroyed first).
// `realtime` asks for SCHED_FIFO (ignored where not permitted): with the CPUs busy (ctest -j,
// other builds) a normal thread wakes up to a scheduler tick late and the timing tests would
// measure the machine instead of the wire. The daemon's wire thread wants the same.
class IoThread {
 public:
  explicit IoThread(bool realtime = false);
  ~IoThread();
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

// Runs a shell command; its stdout and stderr, or an error naming the command and its output
// when it exits non-zero.
absl::StatusOr<std::string> Shell(const std::string& command);

struct PingResult {
  int transmitted = 0;
  int received = 0;
  std::vector<double> rtt_ms;  // one per reply
  double MedianMs() const;
  // Delays only add, and scheduling noise only adds: the smallest RTT is the one that says
  // what the wire did.
  double MinMs() const;
};

// ping from inside `ns`.
absl::StatusOr<PingResult> Ping(const std::string& ns, const std::string& destination, int count,
                                double interval_s);

// A socket created inside the namespace (it stays bound to it).
absl::StatusOr<UniqueFd> SocketIn(int netns_fd, int domain, int type);

struct UdpProbeResult {
  // The numbers of the probes of which no intact copy arrived, in order.
  std::vector<uint32_t> lost;
  // Datagrams the application received that are no probe as it was sent: a length, a number or
  // any byte that differs. Corruption that got past the receiver's checksums ends up here.
  uint32_t mismatched = 0;
};

// Sends `count` numbered UDP datagrams of `payload_bytes` (at least 4) from namespace `src` to
// `dst_ip`:9000 in namespace `dst`, paced so that no socket or device queue overflows, and compares
// every datagram received with the probe it claims to be, byte for byte. Probe n's payload is
// the 32-bit number n repeated, so a flipped bit anywhere (in the number too) makes a payload
// that no probe had.
absl::StatusOr<UdpProbeResult> SendUdpProbes(int src_ns, int dst_ns, const std::string& dst_ip,
                                             uint32_t count, size_t payload_bytes = 64);

struct BulkResult {
  uint64_t bytes = 0;
  double seconds = 0;             // first to last byte at the receiver
  int64_t first_bad_offset = -1;  // where the received stream first differed, if it did
  double Mbps() const { return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0; }
};

// One TCP connection from `src` to `dst_ip` (a listener in `dst`) carrying `bytes` of a known
// pattern; DATA_LOSS unless every byte arrived as sent.
absl::StatusOr<BulkResult> TcpBulk(int src_ns, int dst_ns, const std::string& dst_ip,
                                   uint64_t bytes);

struct BlastResult {
  uint64_t sent = 0;
  uint64_t received = 0;
  double seconds = 0;
  double ReceivedPps() const { return seconds > 0 ? static_cast<double>(received) / seconds : 0; }
};

// UDP datagrams of `payload_bytes` sent as fast as the sender can for `seconds`; counts what
// arrives (small-frame packets per second).
absl::StatusOr<BlastResult> UdpBlast(int src_ns, int dst_ns, const std::string& dst_ip,
                                     size_t payload_bytes, double seconds);

}  // namespace nslab::testing
