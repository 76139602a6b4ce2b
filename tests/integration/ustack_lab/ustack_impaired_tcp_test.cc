// The participant node's TCP across an impaired link, through a real nslabd: a kernel host and a
// ustack node on one link that is rate-limited (tbf), lossy (nftables on a veth, or the
// userspace wire) or long (the wire's delay). Every transfer must arrive intact both ways: curl
// in the kernel's namespace downloads from the stack's HTTP server, and a kernel client sends
// through the stack's echo service. Where loss is configured, the sender's retransmissions must
// show: in the stack's RetransSegs when the stack sent the bulk, in `ss -ti` (retrans:) when
// the kernel did. Where delay is configured, both sides' RTT must include it.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "nslab/v1/participants.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kHttpPort = 80;
constexpr int kEchoPort = 7;

// $MODE and $IMPAIR are filled in by each test. The seed makes the wire's drops the same in
// every run (the nftables drops are not seeded). The stack's MAC is the topology's, on a veth
// and on a wire alike.
constexpr char kTopology[] = R"(
seed: 2026
nodes:
  kernel: {kind: host}
  stack:
    kind: ustack
    services: [{tcp: 80, app: http}, {tcp: 7, app: echo}]
links:
  - {a: kernel:eth0, b: stack:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24,
     b_mac: "02:00:00:09:00:02", mode: $MODE, impair: {$IMPAIR}}
)";

// The kernel's side of a transfer, run in the kernel node: `http PORT N` has curl download
// /bytes/N and hashes the body; `echo PORT N` sends N bytes through the echo service while
// reading them back. Both bodies follow the HTTP server's pattern (byte i is i % 251). A thread
// samples `ss -tin` every 20 ms while the connection lives; the echo client also takes a last
// sample once everything it sent is acknowledged and before it sends its FIN (after which the
// connection soon becomes a TIME-WAIT mini-socket that ss shows no tcp_info for). Prints
// "key value" lines: exit, bytes, sha256, expected, intact, retrans (the largest total
// retransmission count ss showed), rtt_ms and minrtt_ms (from the last sample that had them),
// samples, nstat_retrans (TcpRetransSegs of the namespace afterwards) and seconds.
constexpr char kKernelClient[] = R"py(
import fcntl, hashlib, re, socket, struct, subprocess, sys, termios, threading, time
mode, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
peer = '10.9.0.2'
pattern = (bytes(range(251)) * (size // 251 + 1))[:size]
seen = {'retrans': 0, 'samples': 0}
def sample():
  out = subprocess.run(['ss', '-tin', 'dst', '%s:%d' % (peer, port)],
                       capture_output=True, text=True).stdout
  for m in re.finditer(r'retrans:\d+/(\d+)', out):
    seen['retrans'] = max(seen['retrans'], int(m.group(1)))
  rtt = re.search(r'\brtt:([\d.]+)/', out)
  minrtt = re.search(r'\bminrtt:([\d.]+)', out)
  if rtt:
    seen['rtt_ms'] = float(rtt.group(1))
    seen['samples'] += 1
  if minrtt:
    seen['minrtt_ms'] = float(minrtt.group(1))
done = threading.Event()
def sampler():
  while not done.is_set():
    sample()
    time.sleep(0.02)
watcher = threading.Thread(target=sampler)
start = time.time()
if mode == 'http':
  curl = subprocess.Popen(['curl', '-sS', '-f', '--max-time', '60',
                           'http://%s:%d/bytes/%d' % (peer, port, size)], stdout=subprocess.PIPE)
  watcher.start()
  digest, got = hashlib.sha256(), 0
  for chunk in iter(lambda: curl.stdout.read(65536), b''):
    digest.update(chunk)
    got += len(chunk)
  print('exit', curl.wait())
  print('bytes', got)
  print('sha256', digest.hexdigest())
else:
  s = socket.create_connection((peer, port), timeout=60)
  watcher.start()
  def send():
    s.sendall(pattern)
    deadline = time.time() + 60
    while time.time() < deadline:
      unacked = struct.unpack('i', fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b'\0' * 4))[0]
      if unacked == 0:
        break
      time.sleep(0.01)
    sample()
    s.shutdown(socket.SHUT_WR)
  sender = threading.Thread(target=send)
  sender.start()
  got = bytearray()
  while True:
    chunk = s.recv(262144)
    if not chunk:
      break
    got += chunk
  sender.join()
  s.close()
  print('exit', 0)
  print('bytes', len(got))
  print('sha256', hashlib.sha256(got).hexdigest())
  print('intact', got == pattern)
print('seconds', time.time() - start)
done.set()
watcher.join()
print('expected', hashlib.sha256(pattern).hexdigest())
for key in ('retrans', 'rtt_ms', 'minrtt_ms', 'samples'):
  print(key, seen.get(key, -1))
nstat = subprocess.run(['nstat', '-asz', 'TcpRetransSegs'], capture_output=True, text=True).stdout
print('nstat_retrans', (re.findall(r'TcpRetransSegs\s+(\d+)', nstat) or ['-1'])[0])
)py";

// What the kernel's client printed, and what the stack's socket table showed meanwhile.
struct Transfer {
  TestDaemon::ExecResult exec;
  std::map<std::string, std::string> values;
  // Over the stack's established connections to the kernel, sampled every 50 ms: the smallest
  // and largest smoothed RTT (0 when none was seen).
  uint64_t stack_min_rtt_us = 0;
  uint64_t stack_max_rtt_us = 0;

  double Number(const std::string& key) const {
    double value = -1;
    auto it = values.find(key);
    if (it == values.end() || !absl::SimpleAtod(it->second, &value)) {
      return -1;
    }
    return value;
  }
  std::string Text(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? "" : it->second;
  }
  // For failure messages: the whole output.
  std::string Output() const { return absl::StrCat(exec.out, exec.err); }
};

class UstackImpairedTcpTest : public DaemonSuite<> {
 protected:
  void SetUp() override { chaos_ = nslab::v1::ChaosService::NewStub(daemon_->channel()); }

  // Creates the lab with the link in `mode` (veth or wire) impaired by `impair` (the YAML
  // flow mapping's body); the stack must answer at once.
  void Up(const std::string& mode, const std::string& impair) {
    name_ = UniqueLabName("ustimp");
    guard_ = std::make_unique<LabGuard>(daemon_, name_);
    const std::string yaml = absl::StrReplaceAll(kTopology, {{"$MODE", mode}, {"$IMPAIR", impair}});
    auto status = daemon_->CreateFromYaml(yaml, name_);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto stats = Stats();
    ASSERT_TRUE(stats.ok()) << "the stack does not answer right after CreateLab: "
                            << stats.error_message();
  }

  grpc::Status Stats(nslab::v1::UstackStats* stats = nullptr) {
    return daemon_->UstackStats(name_, "stack", stats);
  }

  uint64_t StackRetransSegs() {
    nslab::v1::UstackStats stats;
    EXPECT_TRUE(Stats(&stats).ok());
    return stats.tcp().retrans_segs();
  }

  nslab::v1::LinkImpairment Listed() {
    nslab::v1::ListImpairmentsRequest request;
    request.set_lab(name_);
    nslab::v1::ListImpairmentsResponse response;
    grpc::ClientContext context;
    auto status = chaos_->ListImpairments(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.links_size() > 0 ? response.links(0) : nslab::v1::LinkImpairment();
  }

  // Runs the kernel's client (`mode` http or echo) while watching the stack's socket table.
  Transfer Run(const std::string& mode, int port, uint64_t bytes) {
    Transfer transfer;
    std::atomic<bool> finished = false;
    std::thread client([&] {
      transfer.exec = daemon_->Exec(
          name_, "kernel",
          {"python3", "-c", kKernelClient, mode, absl::StrCat(port), absl::StrCat(bytes)}, "",
          /*timeout_ms=*/120'000);
      finished = true;
    });
    uint64_t min_rtt = std::numeric_limits<uint64_t>::max();
    while (!finished) {
      nslab::v1::UstackStats stats;
      if (Stats(&stats).ok()) {
        for (const auto& socket : stats.tcp_sockets()) {
          if (socket.state() == "ESTAB" && socket.remote().starts_with("10.9.0.1:") &&
              socket.rtt_us() > 0) {
            min_rtt = std::min(min_rtt, socket.rtt_us());
            transfer.stack_max_rtt_us = std::max(transfer.stack_max_rtt_us, socket.rtt_us());
          }
        }
      }
      usleep(50'000);
    }
    client.join();
    transfer.stack_min_rtt_us = transfer.stack_max_rtt_us == 0 ? 0 : min_rtt;
    std::istringstream lines(transfer.exec.out);
    std::string key;
    std::string value;
    while (lines >> key >> value) {
      transfer.values[key] = value;
    }
    return transfer;
  }

  // Both directions intact, with the counters the callers check.
  struct Exchange {
    Transfer download;  // the stack sent the bulk
    Transfer upload;    // the kernel sent the bulk (and the stack echoed it)
    uint64_t stack_retrans_download = 0;
  };

  Exchange DownloadAndEcho(uint64_t bytes) {
    Exchange result;
    const uint64_t before = StackRetransSegs();
    result.download = Run("http", kHttpPort, bytes);
    result.stack_retrans_download = StackRetransSegs() - before;
    const Transfer& down = result.download;
    EXPECT_EQ(down.Text("exit"), "0") << down.Output();
    EXPECT_EQ(down.Number("bytes"), static_cast<double>(bytes)) << down.Output();
    EXPECT_EQ(down.Text("sha256"), down.Text("expected")) << down.Output();
    EXPECT_EQ(down.Text("sha256").size(), 64u) << down.Output();
    result.upload = Run("echo", kEchoPort, bytes);
    const Transfer& up = result.upload;
    EXPECT_EQ(up.Number("bytes"), static_cast<double>(bytes)) << up.Output();
    EXPECT_EQ(up.Text("intact"), "True") << up.Output();
    EXPECT_EQ(up.Text("sha256"), up.Text("expected")) << up.Output();
    return result;
  }

  std::string name_;
  std::unique_ptr<LabGuard> guard_;
  std::unique_ptr<nslab::v1::ChaosService::Stub> chaos_;
};

TEST_F(UstackImpairedTcpTest, ARateLimitedLinkCarriesBothDirectionsIntact) {
  ASSERT_NO_FATAL_FAILURE(Up("veth", "rate: 30mbit"));
  EXPECT_EQ(Listed().backend(), "kernel");
  // tbf on both ends' egress: the kernel's eth0 and the stack node's eth0 (the bridge port
  // the stack's frames leave through).
  for (const char* node : {"kernel", "stack"}) {
    auto tc = daemon_->Exec(name_, node, {"tc", "qdisc", "show", "dev", "eth0"});
    EXPECT_THAT(tc.out, HasSubstr("tbf")) << node << ": " << tc.out << tc.err;
  }
  constexpr uint64_t kBytes = 3'000'000;
  auto exchange = DownloadAndEcho(kBytes);
  // The rate is in force: 3 MB at 30 Mbit/s take at least 0.8 s, whatever else happens. Half
  // of that leaves room for tbf's burst.
  const double floor_seconds = 0.5 * kBytes * 8 / 30e6;
  EXPECT_GE(exchange.download.Number("seconds"), floor_seconds) << exchange.download.Output();
  EXPECT_GE(exchange.upload.Number("seconds"), floor_seconds) << exchange.upload.Output();
}

// Loss on a veth (nftables drops at each receiving end) and on the wire (its seeded loss):
// the same transfers, and the retransmissions that repaired them.
class UstackLossyLinkTest : public UstackImpairedTcpTest,
                            public ::testing::WithParamInterface<const char*> {};

TEST_P(UstackLossyLinkTest, RetransmissionsRepairBothDirections) {
  const std::string mode = GetParam();
  ASSERT_NO_FATAL_FAILURE(Up(mode, "loss: 3%"));
  const auto before = Listed();
  EXPECT_EQ(before.backend(), mode == "wire" ? "wire" : "kernel");
  // One segment per packet from the kernel, so that the loss acts on each segment: a veth
  // passes TSO super-frames of up to 44 segments whole, and nftables drops (or keeps) such a
  // frame as one packet, which leaves a 1 MB upload a fair chance of losing nothing. (The wire
  // turns offloads off itself while a direction is impaired.)
  auto gso =
      daemon_->Exec(name_, "kernel", {"ip", "link", "set", "dev", "eth0", "gso_max_segs", "1"});
  ASSERT_EQ(gso.code, 0) << gso.out << gso.err;
  // About 20 of the ~700 data segments of each transfer are dropped: the sender repairs them,
  // and says so. (Small: the stack recovers many losses only by its 200 ms RTO.)
  auto exchange = DownloadAndEcho(1'000'000);
  EXPECT_GT(exchange.stack_retrans_download, 0u) << exchange.download.Output();
  EXPECT_GT(exchange.upload.Number("retrans"), 0) << exchange.upload.Output();
  EXPECT_GE(exchange.upload.Number("nstat_retrans"), exchange.upload.Number("retrans"))
      << exchange.upload.Output();
  if (mode == "wire") {
    const auto after = Listed();
    EXPECT_GT(after.a_to_b_counters().dropped_loss(), 0u);
    EXPECT_GT(after.b_to_a_counters().dropped_loss(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, UstackLossyLinkTest, ::testing::Values("veth", "wire"),
                         [](const auto& info) { return std::string(info.param); });

TEST_F(UstackImpairedTcpTest, AWireDelayShowsInBothSidesRtt) {
  ASSERT_NO_FATAL_FAILURE(Up("wire", "delay: 20ms"));
  EXPECT_EQ(Listed().backend(), "wire");
  auto exchange = DownloadAndEcho(2'000'000);
  for (const Transfer* transfer : {&exchange.download, &exchange.upload}) {
    // The kernel measured every round trip at 40 ms or more.
    EXPECT_GT(transfer->Number("samples"), 0) << transfer->Output();
    EXPECT_GE(transfer->Number("minrtt_ms"), 40.0) << transfer->Output();
    EXPECT_GE(transfer->Number("rtt_ms"), 40.0) << transfer->Output();
    // And so did the stack.
    EXPECT_GE(transfer->stack_min_rtt_us, 40'000u) << transfer->Output();
  }
}

}  // namespace
}  // namespace nslab::testing
