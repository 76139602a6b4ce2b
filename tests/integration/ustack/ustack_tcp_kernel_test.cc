// The participant node's TCP against the Linux kernel in a neighbouring namespace (root): the
// kernel's TCP client moves 10 MB through the ustack's echo and discard services intact, reads
// the chargen stream, is refused on a closed port, and `ss -tni` in its namespace shows the
// connection while the ustack's own socket table shows the other end. curl downloads generated
// bodies from the ustack's HTTP server intact (sha256 against the pattern made here) and reuses
// the connection for a second request. Every test runs twice: with the NIC's offloads off, and
// with checksum and TCP segmentation offload on (the kernel hands over its unsegmented TCP and
// the TAP cuts the stack's 64 KiB segments). See ustack_lab.h for the topology.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

constexpr std::uint16_t kEchoPort = 7;
constexpr std::uint16_t kDiscardPort = 9;
constexpr std::uint16_t kChargenPort = 19;
constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kClosedPort = 4444;
constexpr std::size_t kTransferBytes = 10 * 1024 * 1024;

// sha256sum's hex digest of the HTTP server's /bytes/N body (byte i is i % 251), generated
// here and streamed through sha256sum so that no copy of it is kept; "" on failure.
std::string ExpectedSha256(std::uint64_t size, const std::string& dir) {
  const std::string out = dir + "/expected.sha256";
  FILE* sha = ::popen(("sha256sum > " + out).c_str(), "w");
  if (sha == nullptr) {
    return "";
  }
  std::vector<char> block(251 * 1024);
  for (std::size_t i = 0; i < block.size(); ++i) {
    block[i] = static_cast<char>(i % 251);
  }
  for (std::uint64_t left = size; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, block.size()));
    if (std::fwrite(block.data(), 1, n, sha) != n) {
      break;
    }
    left -= n;
  }
  const int status = ::pclose(sha);
  std::string digest = ReadFile(out);
  std::filesystem::remove(out);
  return status == 0 ? digest.substr(0, 64) : "";
}

std::vector<char> Pattern(std::size_t size) {
  std::mt19937 generator(2026);
  std::vector<char> data(size);
  for (char& byte : data) {
    byte = static_cast<char>(generator());
  }
  return data;
}

// Connects the kernel socket `fd` (made in the peer namespace) to the ustack's `port`.
int Connect(int fd, std::uint16_t port) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, kUstackIp, &to.sin_addr);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == 0 ? 0 : errno;
}

// Writes all of `out` (then shuts the sending side) while reading whatever comes back into
// `in`, until the ustack closes its side or `deadline` passes. A callback in the middle of the
// transfer (once, after half was written) lets the test look at the live connection.
bool Exchange(int fd, const std::vector<char>& out, std::vector<char>& in,
              std::chrono::steady_clock::time_point deadline,
              const std::function<void()>& halfway = nullptr) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::size_t written = 0;
  bool shut = false;
  bool halfway_done = halfway == nullptr;
  std::vector<char> buffer(256 * 1024);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!halfway_done && written >= out.size() / 2) {
      halfway_done = true;
      halfway();
    }
    if (written == out.size() && !shut) {
      ::shutdown(fd, SHUT_WR);
      shut = true;
    }
    pollfd poll_fd{fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
    if (::poll(&poll_fd, 1, 200) < 0) {
      return false;
    }
    if (poll_fd.revents & POLLOUT) {
      const ssize_t n = ::send(fd, out.data() + written,
                               std::min<std::size_t>(out.size() - written, 65536), MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN) {
        return false;
      }
    }
    if (poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n == 0) {
        return shut;
      }
      if (n < 0 && errno != EAGAIN) {
        return false;
      }
      if (n > 0) {
        in.insert(in.end(), buffer.begin(), buffer.begin() + n);
      }
    }
  }
  return false;
}

struct NicMode {
  const char* name;
  bool offloads;  // --csum-offload --tso
};

class UstackTcpTest : public ::testing::TestWithParam<NicMode> {
 protected:
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  // One lab per NIC mode, shared by that mode's tests.
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (namespaces, TAP)";
    }
    if (lab_ != nullptr && lab_offloads_ == GetParam().offloads) {
      return;
    }
    delete lab_;
    lab_ = nullptr;
    std::vector<std::string> args = {"--service", absl::StrCat("tcp:", kEchoPort, ":echo"),
                                     "--service", absl::StrCat("tcp:", kDiscardPort, ":discard"),
                                     "--service", absl::StrCat("tcp:", kChargenPort, ":chargen"),
                                     "--service", absl::StrCat("tcp:", kHttpPort, ":http")};
    if (GetParam().offloads) {
      args.insert(args.end(), {"--csum-offload", "--tso"});
    }
    absl::StatusOr<std::unique_ptr<UstackLab>> lab = UstackLab::Create(NSLAB_USTACK_BINARY, args);
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = lab->release();
    lab_offloads_ = GetParam().offloads;
  }
  // With offloads on, bulk transfers must have used them both ways.
  void ExpectOffloadsUsed(const v1::UstackStats& before, bool ustack_sent, bool kernel_sent) {
    const absl::StatusOr<v1::UstackStats> after = lab_->Stats();
    ASSERT_TRUE(after.ok()) << after.status();
    const std::uint64_t tso = after->nic().tx_tso_frames() - before.nic().tx_tso_frames();
    const std::uint64_t lro = after->nic().rx_lro_frames() - before.nic().rx_lro_frames();
    if (!GetParam().offloads) {
      EXPECT_EQ(tso, 0u);
      EXPECT_EQ(lro, 0u);
      return;
    }
    EXPECT_TRUE(after->nic_settings().tso());
    if (ustack_sent) {
      EXPECT_GT(tso, 0u) << "the stack sent no segment for the TAP to cut";
    }
    if (kernel_sent) {
      EXPECT_GT(lro, 0u) << "the kernel handed over no unsegmented TCP";
    }
  }
  void TearDown() override {
    if (HasFailure() && lab_ != nullptr) {
      std::printf("--- nslab-ustack log ---\n%s\n", ReadFile(lab_->ustack_log()).c_str());
    }
  }

  Fd ConnectedSocket(std::uint16_t port) {
    absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_STREAM);
    EXPECT_TRUE(fd.ok()) << fd.status();
    Fd socket(fd.ok() ? *fd : -1);
    EXPECT_EQ(Connect(socket.get(), port), 0) << "connect to " << kUstackIp << ":" << port;
    return socket;
  }

  static UstackLab* lab_;
  static bool lab_offloads_;
};

UstackLab* UstackTcpTest::lab_ = nullptr;
bool UstackTcpTest::lab_offloads_ = false;

INSTANTIATE_TEST_SUITE_P(Nic, UstackTcpTest,
                         ::testing::Values(NicMode{"plain", false}, NicMode{"offloads", true}),
                         [](const ::testing::TestParamInfo<NicMode>& info) {
                           return std::string(info.param.name);
                         });

TEST_P(UstackTcpTest, KernelMovesTenMegabytesThroughEchoIntactAndSsSeesIt) {
  const absl::StatusOr<v1::UstackStats> before = lab_->Stats();
  ASSERT_TRUE(before.ok()) << before.status();
  Fd socket = ConnectedSocket(kEchoPort);
  const std::vector<char> data = Pattern(kTransferBytes);
  std::vector<char> echoed;
  std::string ss_output;
  std::vector<std::string> ustack_states;
  const bool done = Exchange(
      socket.get(), data, echoed, std::chrono::steady_clock::now() + std::chrono::seconds(60), [&] {
        ss_output = lab_->InPeer("ss -tni").value_or("");
        const absl::StatusOr<v1::UstackStats> stats = lab_->Stats();
        if (stats.ok()) {
          for (const v1::UstackTcpSocket& row : stats->tcp_sockets()) {
            ustack_states.push_back(absl::StrCat(row.state(), " ", row.local(), " ", row.remote()));
          }
        }
      });
  EXPECT_TRUE(done) << "echoed " << echoed.size() << " of " << data.size();
  EXPECT_EQ(echoed.size(), data.size());
  EXPECT_TRUE(echoed == data) << "the echo differs from what was sent";
  // The kernel's view: an established connection to the ustack, with TCP info (rtt, cwnd).
  EXPECT_TRUE(absl::StrContains(ss_output, absl::StrCat(kUstackIp, ":", kEchoPort))) << ss_output;
  EXPECT_TRUE(absl::StrContains(ss_output, "ESTAB")) << ss_output;
  EXPECT_TRUE(absl::StrContains(ss_output, "rtt:")) << ss_output;
  // The ustack's view: its listener and the accepted connection.
  const std::string table = absl::StrJoin(ustack_states, "\n");
  EXPECT_TRUE(absl::StrContains(table, absl::StrCat("LISTEN 0.0.0.0:", kEchoPort))) << table;
  EXPECT_TRUE(absl::StrContains(
      table, absl::StrCat("ESTAB ", kUstackIp, ":", kEchoPort, " ", kPeerIp, ":")))
      << table;
  ExpectOffloadsUsed(*before, /*ustack_sent=*/true, /*kernel_sent=*/true);
}

TEST_P(UstackTcpTest, KernelSendsTenMegabytesToDiscardAndTheServiceCloses) {
  const absl::StatusOr<v1::UstackStats> before = lab_->Stats();
  ASSERT_TRUE(before.ok()) << before.status();
  Fd socket = ConnectedSocket(kDiscardPort);
  const std::vector<char> data = Pattern(kTransferBytes);
  std::vector<char> answer;
  EXPECT_TRUE(Exchange(socket.get(), data, answer,
                       std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  EXPECT_TRUE(answer.empty());
  // Every byte was acknowledged: nothing is left in the kernel's send queue.
  int unsent = -1;
  ::ioctl(socket.get(), SIOCOUTQ, &unsent);
  EXPECT_EQ(unsent, 0);
  const absl::StatusOr<v1::UstackStats> after = lab_->Stats();
  ASSERT_TRUE(after.ok()) << after.status();
  // InSegs counts what reached TCP, as Linux counts a GRO'd segment once: with offloads the
  // kernel's segments arrive up to 64 KiB at a time.
  EXPECT_GE(after->tcp().in_segs() - before->tcp().in_segs(), kTransferBytes / 65536);
  EXPECT_EQ(after->tcp().in_csum_errors(), 0u);
  ExpectOffloadsUsed(*before, /*ustack_sent=*/false, /*kernel_sent=*/true);
  EXPECT_GE(after->tcp().passive_opens(), before->tcp().passive_opens() + 1);
}

TEST_P(UstackTcpTest, KernelReadsTheChargenStream) {
  Fd socket = ConnectedSocket(kChargenPort);
  std::string received;
  char buffer[65536];
  timeval timeout{5, 0};
  ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  while (received.size() < 1024 * 1024) {
    const ssize_t n = ::recv(socket.get(), buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0) << "after " << received.size() << " bytes";
    received.append(buffer, static_cast<std::size_t>(n));
  }
  // RFC 864: 72 printable characters and CR LF per line, each line one character further on.
  for (std::size_t line = 0; line < 100; ++line) {
    const std::string text = received.substr(line * 74, 74);
    for (std::size_t column = 0; column < 72; ++column) {
      ASSERT_EQ(text[column], static_cast<char>(' ' + (line + column) % 95))
          << "line " << line << " column " << column;
    }
    ASSERT_EQ(text.substr(72), "\r\n");
  }
}

TEST_P(UstackTcpTest, ClosedPortIsRefusedWithAReset) {
  const absl::StatusOr<v1::UstackStats> before = lab_->Stats();
  ASSERT_TRUE(before.ok()) << before.status();
  absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_STREAM);
  ASSERT_TRUE(fd.ok()) << fd.status();
  Fd socket(*fd);
  EXPECT_EQ(Connect(socket.get(), kClosedPort), ECONNREFUSED);
  const absl::StatusOr<v1::UstackStats> after = lab_->Stats();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->tcp().no_socket(), before->tcp().no_socket() + 1);
  EXPECT_EQ(after->tcp().out_rsts(), before->tcp().out_rsts() + 1);
}

// curl in the peer namespace downloads generated bodies over HTTP; the file's sha256 must be
// that of the pattern made here. Sizes from 1 MB to 1 GB: the larger ones run for seconds, long
// enough for loss recovery, window updates and the send buffer refilling to all matter.
TEST_P(UstackTcpTest, CurlDownloadsGeneratedBodiesIntact) {
  const absl::StatusOr<v1::UstackStats> before = lab_->Stats();
  ASSERT_TRUE(before.ok()) << before.status();
  const std::string file = lab_->dir() + "/download";
  for (const std::uint64_t size :
       {std::uint64_t{1} << 20, std::uint64_t{100} << 20, std::uint64_t{1} << 30}) {
    const auto start = std::chrono::steady_clock::now();
    const absl::StatusOr<std::string> curl =
        // No time limit (a speed: tests/bench/tcp_peers measures it); a transfer that stalls
        // for 20 s fails here, the whole run is bounded by ctest's TIMEOUT.
        lab_->InPeer(absl::StrCat("curl -s --fail --speed-limit 1 --speed-time 20 -o ", file,
                                  " http://", kUstackIp, ":", kHttpPort, "/bytes/", size));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("curl /bytes/%llu: %.2f s (%.0f MB/s)\n", static_cast<unsigned long long>(size),
                seconds, static_cast<double>(size) / 1e6 / seconds);
    std::error_code error;
    const std::uintmax_t got = std::filesystem::file_size(file, error);
    const absl::StatusOr<std::string> sum = Shell("sha256sum " + file);
    std::filesystem::remove(file, error);
    ASSERT_TRUE(curl.ok()) << curl.status();
    EXPECT_EQ(got, size);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->substr(0, 64), ExpectedSha256(size, lab_->dir())) << size;
  }
  ExpectOffloadsUsed(*before, /*ustack_sent=*/true, /*kernel_sent=*/false);
}

// Two URLs in one curl run: the second request goes over the first one's connection.
TEST_P(UstackTcpTest, CurlReusesTheConnectionForASecondRequest) {
  const std::string base = absl::StrCat("http://", kUstackIp, ":", kHttpPort);
  const absl::StatusOr<std::string> curl = lab_->InPeer(
      absl::StrCat("curl -s -v --fail --max-time 30 -o /dev/null -o /dev/null --write-out "
                   "'connects=%{num_connects} code=%{http_code}\\n' ",
                   base, "/bytes/100000 ", base, "/"));
  ASSERT_TRUE(curl.ok()) << curl.status();
  EXPECT_TRUE(absl::StrContains(*curl, "connects=1 code=200\n")) << *curl;
  EXPECT_TRUE(absl::StrContains(*curl, "connects=0 code=200\n")) << *curl;
  EXPECT_TRUE(absl::StrContains(*curl, "Re-using existing connection")) << *curl;
}

// A whole HTTP transfer as tshark sees it on the kernel's side: nothing malformed, no segment
// ACKed that was never seen or missing before one that was, and every TCP checksum the ustack
// wrote good. (The kernel's own frames carry partial checksums, offloaded to the veth, so only
// the ustack's are checked.)
TEST_P(UstackTcpTest, TsharkDecodesAnHttpTransferCleanly) {
  const std::string pcap = lab_->dir() + "/http.pcap";
  const std::string tcpdump_log = lab_->dir() + "/tcpdump-http.log";
  // The analysis assumes tcpdump saw every frame: one it missed would look like a segment the
  // stack lost. A capture that missed frames ("captured" short of "received by filter", or
  // dropped by the kernel) proves nothing either way and is taken again.
  bool complete = false;
  for (int attempt = 0; attempt < 3 && !complete; ++attempt) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> tcpdump =
        ChildProcess::Start(lab_->peer_ns(),
                            {"/usr/bin/tcpdump", "-i", "vB", "-n", "-B", "32768", "-w", pcap, "tcp",
                             "port", std::to_string(kHttpPort)},
                            tcpdump_log);
    ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
    for (int i = 0; i < 100 && !absl::StrContains(ReadFile(tcpdump_log), "listening"); ++i) {
      ::usleep(20'000);
    }
    const absl::StatusOr<std::string> curl =
        lab_->InPeer(absl::StrCat("curl -s --fail --max-time 30 -o /dev/null http://", kUstackIp,
                                  ":", kHttpPort, "/bytes/2000000"));
    // Without --immediate-mode (which falls behind a burst) tcpdump reads its ring when a
    // block fills or its 1 s timeout passes; stopping earlier would lose what is still there.
    ::usleep(1'500'000);
    (*tcpdump)->Stop();
    ASSERT_TRUE(curl.ok()) << curl.status();
    const std::string summary = ReadFile(tcpdump_log);
    const auto count_before = [&summary](const std::string& label) {
      const size_t at = summary.find(label);
      if (at == std::string::npos) {
        return -1L;
      }
      const size_t line = summary.rfind('\n', at);
      return std::atol(summary.c_str() + (line == std::string::npos ? 0 : line + 1));
    };
    const long captured = count_before(" packets captured");
    complete = captured > 0 && captured == count_before(" packets received by filter") &&
               count_before(" packets dropped by kernel") == 0;
    std::printf("capture %d: %s\n", attempt, summary.c_str());
  }
  ASSERT_TRUE(complete) << "tcpdump missed frames in three captures; nothing to judge";

  const auto frames = [&](const std::string& filter) {
    const absl::StatusOr<std::string> out = Shell(absl::StrCat(
        "tshark -n -r ", pcap, " -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y '", filter,
        "' -T fields -e frame.number | wc -l"));
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::atoi(out->c_str()) : -1;
  };
  const std::string from_ustack = absl::StrCat("eth.src == ", kUstackMac);
  EXPECT_EQ(frames("_ws.malformed"), 0);
  EXPECT_EQ(frames("tcp.analysis.ack_lost_segment"), 0);  // "ACKed segment that wasn't captured"
  EXPECT_EQ(frames("tcp.analysis.lost_segment"), 0);      // "previous segment not captured"
  if (!GetParam().offloads) {
    EXPECT_GT(frames(from_ustack + " && tcp.len > 1000"), 1000);  // 2 MB of full segments
    EXPECT_EQ(frames(from_ustack + " && (tcp.checksum.status == 0 || ip.checksum.status == 0)"), 0);
    EXPECT_GT(frames(from_ustack + " && tcp.checksum.status == 1"), 1000);
  } else {
    // The veth hands tcpdump the TAP's frames before they are cut and their checksums filled
    // in (as a NIC would on the wire): segments of many MSS, with the IP header's checksum
    // the stack wrote.
    EXPECT_GT(frames(from_ustack + " && tcp.len > 1448"), 5);
    EXPECT_EQ(frames(from_ustack + " && ip.checksum.status == 0"), 0);
  }
}

}  // namespace
}  // namespace nslab::ustack::testing
