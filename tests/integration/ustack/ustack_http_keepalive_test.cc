// A kernel HTTP client on a keep-alive connection to the ustack's HTTP server (issue 27): each
// response leaves whole, carrying the ACK of its request, without waiting for the client's ACK
// of its first segment. The kernel client delays that ACK by its delayed-ACK timer (~40 ms), so
// a server whose Nagle held the body behind the header stalled every such request.
//
// The proof is the order of frames, not a time: an AF_PACKET socket in the client's namespace
// records every frame of the connection, both ways, and for each request the test checks that
// the first frame of the server's answer carries data and the request's ACK (no bare ACK went
// first) and that the client sent nothing between its request and the response's last byte
// (no ACK of the client was needed to release any of it). The latencies are printed, not judged.
// Responses of several segments are proven the other way: with every pure ACK of the client
// dropped in its namespace (nftables), they still arrive whole. See ustack_lab.h for the
// topology.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/ustack/tcp_observe.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

constexpr std::uint16_t kHttpPort = 80;
constexpr int kRequests = 10;

// One TCP frame of the connection as the capture saw it in the client's namespace.
struct Frame {
  bool from_client = false;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::size_t payload = 0;

  std::string describe() const {
    return absl::StrCat(from_client ? "client" : "server", " seq=", seq, " ack=", ack, " flags=0x",
                        absl::Hex(flags), " len=", payload);
  }
};

std::uint16_t Load16(const unsigned char* at) {
  return static_cast<std::uint16_t>(at[0] << 8 | at[1]);
}
std::uint32_t Load32(const unsigned char* at) {
  return std::uint32_t{at[0]} << 24 | std::uint32_t{at[1]} << 16 | std::uint32_t{at[2]} << 8 |
         at[3];
}

// A capture of interface `name` in namespace `ns`, both directions.
absl::StatusOr<Fd> OpenCapture(const std::string& ns, const std::string& name) {
  absl::StatusOr<int> fd = UstackLab::SocketIn(ns, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (!fd.ok()) {
    return fd.status();
  }
  Fd capture(*fd);
  // The index of the name as the socket's own namespace knows it.
  ifreq request{};
  std::snprintf(request.ifr_name, sizeof(request.ifr_name), "%s", name.c_str());
  if (::ioctl(capture.get(), SIOCGIFINDEX, &request) != 0) {
    return absl::InternalError(absl::StrCat("SIOCGIFINDEX ", name, ": ", std::strerror(errno)));
  }
  const int buffer = 4 << 20;
  ::setsockopt(capture.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_ALL);
  bind_to.sll_ifindex = request.ifr_ifindex;
  if (::bind(capture.get(), reinterpret_cast<const sockaddr*>(&bind_to), sizeof(bind_to)) != 0) {
    return absl::InternalError(absl::StrCat("bind AF_PACKET: ", std::strerror(errno)));
  }
  return capture;
}

// Every frame queued on `capture` that belongs to client_port <-> kHttpPort, in order.
std::vector<Frame> DrainCapture(int capture, std::uint16_t client_port) {
  std::vector<Frame> frames;
  unsigned char bytes[256];
  for (;;) {
    sockaddr_ll from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(capture, bytes, sizeof(bytes), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      return frames;
    }
    const std::size_t len = static_cast<std::size_t>(n);
    if (len < 14 + 20 || Load16(bytes + 12) != ETH_P_IP) {
      continue;
    }
    const unsigned char* ip = bytes + 14;
    const std::size_t ip_header = std::size_t{ip[0] & 0x0fu} * 4;
    if (ip[9] != IPPROTO_TCP || len < 14 + ip_header + 20) {
      continue;
    }
    const unsigned char* tcp = ip + ip_header;
    const std::uint16_t source = Load16(tcp);
    const std::uint16_t destination = Load16(tcp + 2);
    Frame frame;
    frame.from_client = from.sll_pkttype == PACKET_OUTGOING;
    if (frame.from_client ? (source != client_port || destination != kHttpPort)
                          : (source != kHttpPort || destination != client_port)) {
      continue;
    }
    frame.seq = Load32(tcp + 4);
    frame.ack = Load32(tcp + 8);
    frame.flags = tcp[13];
    const std::size_t tcp_header = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    // The IP total length is the whole (possibly unsegmented) frame's, not the truncated read's.
    frame.payload = Load16(ip + 2) - ip_header - tcp_header;
    frames.push_back(frame);
  }
}

// Reads one response (headers and Content-Length bytes of body); false on error or timeout.
bool ReadResponse(int fd, std::string& response) {
  response.clear();
  char buffer[4096];
  std::size_t want = std::string::npos;
  while (want == std::string::npos || response.size() < want) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      return false;
    }
    response.append(buffer, static_cast<std::size_t>(n));
    const std::size_t end = response.find("\r\n\r\n");
    if (want == std::string::npos && end != std::string::npos) {
      const std::size_t at = response.find("Content-Length: ");
      std::size_t length = 0;
      if (at == std::string::npos ||
          !absl::SimpleAtoi(response.substr(at + 16, response.find("\r\n", at) - at - 16),
                            &length)) {
        return false;
      }
      want = end + 4 + length;
    }
  }
  return response.size() == want;
}

struct NicMode {
  const char* name;
  bool offloads;  // --csum-offload --tso
};

class UstackHttpKeepAliveTest : public ::testing::TestWithParam<NicMode> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (namespaces, TAP)";
    }
    std::vector<std::string> args = {"--service", absl::StrCat("tcp:", kHttpPort, ":http")};
    if (GetParam().offloads) {
      args.insert(args.end(), {"--csum-offload", "--tso"});
    }
    absl::StatusOr<std::unique_ptr<UstackLab>> lab = UstackLab::Create(NSLAB_USTACK_BINARY, args);
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = *std::move(lab);
  }
  void TearDown() override {
    if (HasFailure() && lab_ != nullptr) {
      std::printf("--- nslab-ustack log ---\n%s\n", ReadFile(lab_->ustack_log()).c_str());
    }
  }

  // A kernel socket in the peer namespace connected to the HTTP service, and its local port.
  void Connect(Fd& client, std::uint16_t& client_port) {
    absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_STREAM);
    ASSERT_TRUE(fd.ok()) << fd.status();
    client = Fd(*fd);
    timeval timeout{5, 0};
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kHttpPort);
    ::inet_pton(AF_INET, kUstackIp, &to.sin_addr);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0)
        << std::strerror(errno);
    sockaddr_in local{};
    socklen_t local_len = sizeof(local);
    ::getsockname(client.get(), reinterpret_cast<sockaddr*>(&local), &local_len);
    client_port = ntohs(local.sin_port);
  }

  // GET /bytes/`size` on `client`, the whole response read: its latency in ms, or -1.
  double Get(int client, std::size_t size) {
    // An interactive client (Linux's "pingpong" mode, which a request/response exchange enters
    // on its own) delays the ACK of a lone segment: the ACK a Nagle-held body would wait for.
    // TCP_QUICKACK 0 puts the client there from the first request on.
    const int off = 0;
    ::setsockopt(client, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof(off));
    const std::string request =
        absl::StrCat("GET /bytes/", size, " HTTP/1.1\r\nHost: ", kUstackIp, "\r\n\r\n");
    const auto start = std::chrono::steady_clock::now();
    if (::send(client, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      ADD_FAILURE() << "send: " << std::strerror(errno);
      return -1;
    }
    std::string response;
    if (!ReadResponse(client, response)) {
      ADD_FAILURE() << "GET /bytes/" << size << ": no whole response within 5 s; "
                    << response.size() << " bytes came";
      return -1;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
    EXPECT_EQ(response.size() - response.find("\r\n\r\n") - 4, size);
    return ms;
  }

  std::unique_ptr<UstackLab> lab_;
};

INSTANTIATE_TEST_SUITE_P(Nic, UstackHttpKeepAliveTest,
                         ::testing::Values(NicMode{"plain", false}, NicMode{"offloads", true}),
                         [](const ::testing::TestParamInfo<NicMode>& info) {
                           return std::string(info.param.name);
                         });

TEST_P(UstackHttpKeepAliveTest, ResponsesLeaveWholeWithTheRequestsAck) {
  absl::StatusOr<Fd> capture = OpenCapture(lab_->peer_ns(), "vB");
  ASSERT_TRUE(capture.ok()) << capture.status();
  Fd client;
  std::uint16_t client_port = 0;
  ASSERT_NO_FATAL_FAILURE(Connect(client, client_port));

  std::vector<double> latencies_ms;
  for (int i = 0; i < kRequests; ++i) {
    // Head and body fit one segment: the response whole needs no ACK of the client.
    const double ms = Get(client.get(), i % 2 == 0 ? 100 : 1000);
    ASSERT_GE(ms, 0) << "request " << i;
    latencies_ms.push_back(ms);
  }
  std::vector<double> sorted = latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  std::string each;
  for (const double ms : latencies_ms) {
    absl::StrAppend(&each, " ", absl::SixDigits(ms));
  }
  std::printf("%s: per-request latency ms:%s (median %.3f, max %.3f)\n", GetParam().name,
              each.c_str(), sorted[sorted.size() / 2], sorted.back());

  const std::vector<Frame> frames = DrainCapture(capture->get(), client_port);
  std::vector<std::size_t> requests;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].from_client && frames[i].payload > 0) {
      requests.push_back(i);
    }
  }
  std::string trace;
  for (const Frame& frame : frames) {
    absl::StrAppend(&trace, "  ", frame.describe(), "\n");
  }
  ASSERT_EQ(requests.size(), static_cast<std::size_t>(kRequests)) << "each request is one segment\n"
                                                                  << trace;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    const Frame& request = frames[requests[k]];
    const std::size_t end = k + 1 < requests.size() ? requests[k + 1] : frames.size();
    std::size_t first_answer = end;
    std::size_t last_data = end;
    for (std::size_t i = requests[k] + 1; i < end; ++i) {
      if (!frames[i].from_client) {
        first_answer = std::min(first_answer, i);
        if (frames[i].payload > 0) {
          last_data = i;
        }
      }
    }
    ASSERT_LT(first_answer, end) << "request " << k << " unanswered\n" << trace;
    ASSERT_LT(last_data, end) << "request " << k << " had no response data\n" << trace;
    EXPECT_GT(frames[first_answer].payload, 0u)
        << "request " << k << ": a bare ACK went before the response\n"
        << trace;
    EXPECT_EQ(frames[first_answer].ack, request.seq + static_cast<std::uint32_t>(request.payload))
        << "request " << k << ": the response's first segment does not ACK the request\n"
        << trace;
    for (std::size_t i = requests[k] + 1; i < last_data; ++i) {
      EXPECT_FALSE(frames[i].from_client)
          << "request " << k << ": part of the response waited for the client's "
          << frames[i].describe() << "\n"
          << trace;
    }
  }

  // The node timed its own part of each exchange: one handshake, and a turn that answered
  // each request (a response never waits for a later turn). Times are printed, not judged.
  const absl::StatusOr<v1::UstackStats> stats = lab_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  const v1::UstackServiceTimes& times = stats->service_times();
  EXPECT_EQ(times.handshake().count(), 1u) << times.DebugString();
  EXPECT_EQ(times.answer().count(), static_cast<std::uint64_t>(kRequests)) << times.DebugString();
  std::printf("%s: service time, handshake max %.1f us; answer mean %.1f us, max %.1f us\n",
              GetParam().name, static_cast<double>(times.handshake().max_ns()) / 1e3,
              static_cast<double>(times.answer().sum_ns()) / 1e3 / kRequests,
              static_cast<double>(times.answer().max_ns()) / 1e3);
}

// Responses of up to three segments, the last one partial (all within the initial congestion
// window, RFC 5681 3.1), while nftables in the client's namespace drops every pure ACK the
// client sends: a server that held any part of a response for the client's ACK would never
// finish it. (The requests carry ACKs too, and pass.)
TEST_P(UstackHttpKeepAliveTest, ResponsesNeedNoAckFromTheClient) {
  Fd client;
  std::uint16_t client_port = 0;
  ASSERT_NO_FATAL_FAILURE(Connect(client, client_port));
  // A pure ACK is 52 bytes (IPv4 20, TCP 20, timestamps 12), 64 with a SACK block; a request
  // is some 40 more.
  ASSERT_TRUE(PeerNft(*lab_, absl::StrCat("chain out { type filter hook output priority 0; "
                                          "tcp dport ",
                                          kHttpPort,
                                          " tcp flags & (syn | fin | rst) == 0 ip length < 80 "
                                          "counter drop\n}"))
                  .ok());
  for (const std::size_t size : {4000, 100, 3000, 2000, 1500, 4000}) {
    const double ms = Get(client.get(), size);
    ASSERT_GE(ms, 0);
    std::printf("%s: GET /bytes/%zu, the client's ACKs dropped: %.3f ms\n", GetParam().name, size,
                ms);
  }
  const absl::StatusOr<std::string> rules =
      lab_->InPeer(absl::StrCat("nft list table inet ", kNftTable));
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_FALSE(absl::StrContains(*rules, "counter packets 0 ")) << "no ACK was dropped\n" << *rules;
  EXPECT_TRUE(PeerNftDelete(*lab_).ok());
}

}  // namespace
}  // namespace nslab::ustack::testing
