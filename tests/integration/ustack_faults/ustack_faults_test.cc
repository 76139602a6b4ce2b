// Each participant-node fault (DESIGN.md "Participant-node faults"), driven by a kernel TCP
// client in the neighbouring namespace and judged by what the kernel itself shows: the errno
// of connect and recv, `ss` states, retransmission timers and tcp_info. Most faults come
// from the topology, one is set and cleared at run time through the Participants service.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nslab/v1/diag.grpc.pb.h"
#include "nslab/v1/participants.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

// One port per fault, so that the tests of one lab do not see each other's connections.
constexpr char kLab[] = R"(
nodes:
  kernel: {kind: host}
  stack:
    kind: ustack
    services:
      - {tcp: 7, app: echo}
      - {tcp: 80, app: http, fault: refuse}
      - {tcp: 81, app: echo}
      - {tcp: 82, app: echo, fault: blackhole-syn}
      - {tcp: 83, app: echo, fault: never-accept}
      - {tcp: 84, app: echo, fault: close-wait}
      - {tcp: 85, app: echo, fault: ignore-fin}
      - {tcp: 86, app: discard, fault: zero-window}
      - {tcp: 87, app: discard, fault: {mode: slow-read, rate: 20000}}
      - {tcp: 88, app: echo, fault: {mode: reset-after, bytes: 10000}}
links:
  - {a: kernel:eth0, b: stack:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24}
)";

// A kernel client's connect to 10.9.0.2:PORT with a 1 s timeout: prints "connected",
// "refused" (ECONNREFUSED) or "timeout".
std::vector<std::string> Connect(int port) {
  return {"python3", "-c",
          absl::StrCat("import socket\n"
                       "try:\n"
                       "  socket.create_connection(('10.9.0.2', ",
                       port,
                       "), timeout=1); print('connected')\n"
                       "except ConnectionRefusedError: print('refused')\n"
                       "except socket.timeout: print('timeout')\n")};
}

class UstackFaultsTest : public DaemonSuite<> {
 protected:
  static void SetUpTestSuite() {
    DaemonSuite::SetUpTestSuite();
    lab_ = new std::string(UniqueLabName("faults"));
    const grpc::Status status = daemon_->CreateFromYaml(kLab, *lab_);
    created_ = new std::string(status.ok() ? "" : status.error_message());
  }
  static void TearDownTestSuite() {
    (void)daemon_->Delete(*lab_);
    delete lab_;
    delete created_;
    DaemonSuite::TearDownTestSuite();
  }

  void SetUp() override {
    ASSERT_TRUE(created_->empty()) << "the lab did not come up: " << *created_;
    participants_ = nslab::v1::ParticipantsService::NewStub(daemon_->channel());
  }

  TestDaemon::ExecResult Kernel(const std::vector<std::string>& argv) {
    return daemon_->Exec(*lab_, "kernel", argv);
  }

  nslab::v1::UstackStats Stats() {
    nslab::v1::UstackStats stats;
    const grpc::Status status = daemon_->UstackStats(*lab_, "stack", &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats;
  }

  grpc::Status SetFault(uint32_t port, const std::string& mode,
                        nslab::v1::SetUstackFaultResponse* response = nullptr) {
    nslab::v1::SetUstackFaultRequest request;
    request.set_lab(*lab_);
    request.set_node("stack");
    request.mutable_fault()->set_port(port);
    request.mutable_fault()->set_mode(mode);
    nslab::v1::SetUstackFaultResponse ignored;
    grpc::ClientContext context;
    return participants_->SetUstackFault(&context, request, response ? response : &ignored);
  }

  // The kernel's sockets to PORT in `state` (ss's filter words), as `ss -tanoH` prints them;
  // asked until there is one or 5 s pass (the peer's answer is on its way).
  std::string KernelSockets(const std::string& state, int port) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
      out = Kernel({"ss", "-tanoH", "state", state, "dport", "=", absl::StrCat(":", port)}).out;
      if (!out.empty()) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return out;
  }

  // Diagnostics.Sockets on the ustack node: its own socket table.
  nslab::v1::SocketsResponse StackSockets(const std::string& state, uint32_t port) {
    auto diag = nslab::v1::DiagnosticsService::NewStub(daemon_->channel());
    nslab::v1::SocketsRequest request;
    request.set_lab(*lab_);
    request.set_node("stack");
    request.set_state(state);
    request.set_port(port);
    nslab::v1::SocketsResponse response;
    grpc::ClientContext context;
    const grpc::Status status = diag->Sockets(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static inline std::string* lab_ = nullptr;
  static inline std::string* created_ = nullptr;
  std::unique_ptr<nslab::v1::ParticipantsService::Stub> participants_;
};

TEST_F(UstackFaultsTest, TheTopologysFaultsAreInForceAndListed) {
  const nslab::v1::UstackStats stats = Stats();
  std::vector<std::string> listed;
  for (const auto& fault : stats.faults()) {
    std::string entry = absl::StrCat(fault.port(), ":", fault.mode());
    if (fault.bytes() != 0) {
      absl::StrAppend(&entry, ":", fault.bytes());
    }
    if (fault.rate() != 0) {
      absl::StrAppend(&entry, ":", fault.rate());
    }
    listed.push_back(entry);
  }
  EXPECT_THAT(listed, ::testing::ElementsAre("80:refuse", "82:blackhole-syn", "83:never-accept",
                                             "84:close-wait", "85:ignore-fin", "86:zero-window",
                                             "87:slow-read:20000", "88:reset-after:10000"));
}

TEST_F(UstackFaultsTest, RefuseIsConnectionRefusedAtOnce) {
  EXPECT_EQ(Kernel(Connect(80)).out, "refused\n");
  EXPECT_EQ(Kernel(Connect(7)).out, "connected\n");  // the other ports serve as before
}

TEST_F(UstackFaultsTest, RefuseSetAtRunTimeAndClearedServesAgain) {
  EXPECT_EQ(Kernel(Connect(81)).out, "connected\n");
  nslab::v1::SetUstackFaultResponse response;
  ASSERT_TRUE(SetFault(81, "refuse", &response).ok());
  bool listed = false;
  for (const auto& fault : response.faults()) {
    listed |= fault.port() == 81 && fault.mode() == "refuse";
  }
  EXPECT_TRUE(listed) << response.ShortDebugString();
  EXPECT_EQ(Kernel(Connect(81)).out, "refused\n");
  ASSERT_TRUE(SetFault(81, "clear").ok());
  const auto echo = Kernel({"python3", "-c",
                            "import socket\ns = socket.create_connection(('10.9.0.2', 81), 5)\n"
                            "s.sendall(b'back again'); print(s.recv(100).decode())"});
  EXPECT_EQ(echo.out, "back again\n") << echo.err;
}

TEST_F(UstackFaultsTest, BlackholeSynIsATimeout) {
  EXPECT_EQ(Kernel(Connect(82)).out, "timeout\n");
  // The kernel was still retransmitting its SYN when the client gave up.
  EXPECT_GE(Stats().tcp().in_segs(), 1u);
}

TEST_F(UstackFaultsTest, NeverAcceptFillsTheQueueThenConnectsTimeOutAndOverflowsAreCounted) {
  // Connects and holds each connection until one times out; prints how many got through. The
  // servers' accept queue takes 4,097 (backlog 4,096, Linux's somaxconn, plus one).
  const auto run =
      Kernel({"python3", "-c",
              "import resource, socket\nheld = []\n"
              "resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))\n"
              "for _ in range(5000):\n"
              "  try: held.append(socket.create_connection(('10.9.0.2', 83), timeout=1))\n"
              "  except socket.timeout: print(len(held), 'then timeout'); break\n"
              "else: print('never timed out')"});
  EXPECT_THAT(run.out, HasSubstr("4097 then timeout")) << run.out << run.err;
  const nslab::v1::UstackStats stats = Stats();
  EXPECT_GE(stats.tcp().listen_overflows() + stats.tcp().listen_drops(), 1u);
}

TEST_F(UstackFaultsTest, CloseWaitLeavesThePeerInFinWait2AndTheStackInCloseWait) {
  // The echo answers; the client's FIN is ACKed; the stack's never comes.
  const auto run = Kernel({"python3", "-c",
                           "import socket\ns = socket.create_connection(('10.9.0.2', 84), 5)\n"
                           "s.sendall(b'ping'); print(s.recv(10).decode())\n"
                           "s.shutdown(socket.SHUT_WR); s.settimeout(1)\n"
                           "try: print('eof' if s.recv(10) == b'' else 'data')\n"
                           "except socket.timeout: print('no fin')"});
  EXPECT_EQ(run.out, "ping\nno fin\n") << run.err;
  EXPECT_THAT(KernelSockets("fin-wait-2", 84), HasSubstr("10.9.0.2:84"));
  const nslab::v1::SocketsResponse stack = StackSockets("close-wait", 84);
  ASSERT_GE(stack.sockets_size(), 1);
  EXPECT_EQ(stack.sockets(0).state(), "CLOSE-WAIT");
  EXPECT_EQ(stack.sockets(0).local_port(), 84u);
}

TEST_F(UstackFaultsTest, IgnoreFinLeavesThePeerInFinWait1) {
  const auto run = Kernel({"python3", "-c",
                           "import socket\ns = socket.create_connection(('10.9.0.2', 85), 5)\n"
                           "s.sendall(b'ping'); print(s.recv(10).decode())\n"
                           "s.shutdown(socket.SHUT_WR)"});
  EXPECT_EQ(run.out, "ping\n") << run.err;
  const std::string fin_wait_1 = KernelSockets("fin-wait-1", 85);
  EXPECT_THAT(fin_wait_1, HasSubstr("10.9.0.2:85"));
  // Held there by its own FIN's retransmission timer.
  EXPECT_THAT(fin_wait_1, HasSubstr("timer:(on,"));
}

TEST_F(UstackFaultsTest, ZeroWindowKeepsTheSendersQueueFullAndProbesArrive) {
  // Writes what the kernel takes, then asks ss (10 s at most) until the kernel's persist timer
  // runs: it is probing the shut window. Over the next second of probes nothing written is
  // acknowledged (tcp_info's bytes_acked) and Send-Q holds every byte written. (tcpi_probes
  // would not do: the kernel zeroes it whenever a probe is answered, as the stack does.)
  const auto run = Kernel(
      {"python3", "-c",
       "import socket, struct, subprocess, time\n"
       "s = socket.create_connection(('10.9.0.2', 86), 5); s.setblocking(False)\n"
       "queued = 0\n"
       "try:\n  while True: queued += s.send(b'x' * 65536)\n"
       "except BlockingIOError: pass\n"
       "acked = lambda: struct.unpack_from('Q', s.getsockopt(socket.IPPROTO_TCP, "
       "socket.TCP_INFO, 256), 120)[0]\n"
       "ss = lambda: subprocess.run(['ss', '-tnoH', 'dport', '=', ':86'], capture_output=True, "
       "text=True).stdout\n"
       "deadline = time.time() + 10\n"
       "while 'persist' not in ss() and time.time() < deadline: time.sleep(0.02)\n"
       "probing, acked1 = 'persist' in ss(), acked()\n"
       "time.sleep(1)\n"
       "print('queued', queued > 0, 'probing', probing, 'acked since', acked() - acked1,\n"
       "      'send-q full', ss().split()[2] == str(queued))"});
  EXPECT_EQ(run.out, "queued True probing True acked since 0 send-q full True\n") << run.err;
}

TEST_F(UstackFaultsTest, SlowReadDeliversTheRateWithinTenPercent) {
  // Sends without pause; once the stack's receive buffer is full (2 s), what is acknowledged
  // is what the app read: measured over 4 s it is the rate.
  const auto run =
      Kernel({"python3", "-c",
              "import socket, struct, threading, time\n"
              "s = socket.create_connection(('10.9.0.2', 87), 5)\n"
              "def send():\n"
              "  try:\n    while True: s.sendall(b'x' * 65536)\n"
              "  except OSError: pass\n"
              "threading.Thread(target=send, daemon=True).start()\n"
              "acked = lambda: struct.unpack_from('Q', s.getsockopt(socket.IPPROTO_TCP, "
              "socket.TCP_INFO, 256), 120)[0]\n"
              "time.sleep(2); t0, a0 = time.monotonic(), acked()\n"
              "time.sleep(4); t1, a1 = time.monotonic(), acked()\n"
              "print(int((a1 - a0) / (t1 - t0)))\n"
              "s.shutdown(socket.SHUT_RDWR)"});
  uint64_t rate = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(run.out), &rate)) << run.out << run.err;
  EXPECT_GE(rate, 18000u);
  EXPECT_LE(rate, 22000u);
}

TEST_F(UstackFaultsTest, ResetAfterResetsTheConnectionOnceTheBytesAreSpent) {
  // 8000 bytes moved (4000 each way) is under the 10000 the fault allows; the next 4000 is not.
  const auto run =
      Kernel({"python3", "-c",
              "import socket\ns = socket.create_connection(('10.9.0.2', 88), 5); s.settimeout(5)\n"
              "def echo(n):\n"
              "  s.sendall(b'x' * n); got = 0\n"
              "  while got < n:\n"
              "    chunk = s.recv(n - got)\n"
              "    if not chunk: return 'eof after %d' % got\n"
              "    got += len(chunk)\n"
              "  return 'echoed %d' % got\n"
              "print(echo(4000))\n"
              "try: print(echo(4000))\n"
              "except ConnectionResetError: print('reset')"});
  EXPECT_EQ(run.out, "echoed 4000\nreset\n") << run.err;
  EXPECT_GE(Stats().tcp().out_rsts(), 1u);
}

TEST_F(UstackFaultsTest, ErrorsSayWhatToFix) {
  grpc::Status status = SetFault(4242, "refuse");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("its TCP ports: 7, 80, 81"));
  status = SetFault(81, "half-open");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("close-wait"));
  status = SetFault(81, "reset-after");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("needs bytes"));
  nslab::v1::SetUstackFaultRequest request;
  request.set_lab(*lab_);
  request.set_node("kernel");
  request.mutable_fault()->set_port(81);
  request.mutable_fault()->set_mode("refuse");
  nslab::v1::SetUstackFaultResponse response;
  grpc::ClientContext context;
  status = participants_->SetUstackFault(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace nslab::testing
