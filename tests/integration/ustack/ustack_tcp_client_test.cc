// The ustack connects out to kernel servers in the peer namespace and moves data both ways
// intact: its `source` client into `nc -l` (the file nc writes is the pattern), `nc -l` sending
// a file to its `sink` client (the digest the ustack reports is the file's), and its `source`
// through a Python echo server (what comes back is the pattern). A client started before its
// server retries until the server is up. See ustack_lab.h for the topology.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/integration/ustack/tcp_observe.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

constexpr std::uint16_t kServerPort = 5001;

// Echoes until the end of the stream, then shuts its side down and closes.
constexpr char kPythonEcho[] = R"(
import socket, sys
server = socket.create_server((sys.argv[1], int(sys.argv[2])))
connection, _ = server.accept()
while True:
    data = connection.recv(65536)
    if not data:
        break
    connection.sendall(data)
connection.shutdown(socket.SHUT_WR)
connection.close()
)";

class UstackTcpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (namespaces, TAP)";
    }
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      std::printf("--- nslab-ustack log ---\n%s\n", ReadFile(lab_->ustack_log()).c_str());
      if (server_) {
        std::printf("--- server log ---\n%s\n", ReadFile(server_log_).c_str());
      }
    }
    server_.reset();
    lab_.reset();
  }

  // A lab whose ustack runs `client`, with `server_argv` started in the peer first (its stdout
  // and stderr to server_log_).
  void StartLab(const std::string& client, const std::vector<std::string>& server_argv) {
    absl::StatusOr<std::unique_ptr<UstackLab>> lab = UstackLab::Create(
        NSLAB_USTACK_BINARY, {"--service", client}, [&](UstackLab& lab) -> absl::Status {
          if (server_argv.empty()) {
            return absl::OkStatus();
          }
          server_log_ = lab.dir() + "/server.log";
          absl::StatusOr<std::unique_ptr<ChildProcess>> server =
              ChildProcess::Start(lab.peer_ns(), server_argv, server_log_);
          if (!server.ok()) {
            return server.status();
          }
          server_ = *std::move(server);
          // The client retries a refused connect, but a server that is listening first makes
          // the test's first attempt the one that counts.
          return WaitListening(lab);
        });
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = *std::move(lab);
  }

  static absl::Status WaitListening(UstackLab& lab) {
    const std::string local = absl::StrCat(kPeerIp, ":", kServerPort);
    for (int i = 0; i < 250; ++i) {
      if (KernelState(lab, local, "0.0.0.0:*") == "LISTEN") {
        return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::DeadlineExceededError("the server in the peer did not listen");
  }

  static bool Finished(const v1::UstackClient& client) {
    return client.state() == "done" || client.state() == "failed";
  }

  std::unique_ptr<UstackLab> lab_;
  std::unique_ptr<ChildProcess> server_;
  std::string server_log_;
};

TEST_F(UstackTcpClientTest, SourceSendsThePatternToNc) {
  constexpr std::size_t kBytes = 5'000'000;
  const std::string out =
      std::filesystem::temp_directory_path() / absl::StrCat("nslab-ust-nc-", ::getpid(), ".out");
  // nc's stdin is empty: it only receives, and exits once the ustack has closed its side.
  ASSERT_NO_FATAL_FAILURE(
      StartLab(absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":source:", kBytes),
               {"/bin/sh", "-c",
                absl::StrCat("exec nc -l ", kPeerIp, " ", kServerPort, " < /dev/null > ", out)}));
  absl::StatusOr<v1::UstackClient> client = WaitForClient(*lab_, Finished, 20000);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->state(), "done") << client->DebugString();
  EXPECT_EQ(client->bytes_sent(), kBytes);
  EXPECT_EQ(client->bytes_received(), 0u);
  EXPECT_EQ(server_->Stop(), 0);
  const std::string received = ReadFile(out);
  std::filesystem::remove(out);
  EXPECT_EQ(received.size(), kBytes);
  EXPECT_TRUE(received == GeneratedBytes(kBytes)) << "nc received other bytes than the pattern";
}

TEST_F(UstackTcpClientTest, SinkReceivesAFileFromNcIntact) {
  const std::string file =
      std::filesystem::temp_directory_path() / absl::StrCat("nslab-ust-nc-", ::getpid(), ".in");
  std::string data(3'000'000, '\0');
  std::mt19937 random(11);
  for (char& byte : data) {
    byte = static_cast<char>(random());
  }
  std::ofstream(file, std::ios::binary) << data;
  // -N: nc shuts its sending side down at the end of the file.
  ASSERT_NO_FATAL_FAILURE(StartLab(
      absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":sink"),
      {"/bin/sh", "-c", absl::StrCat("exec nc -N -l ", kPeerIp, " ", kServerPort, " < ", file)}));
  absl::StatusOr<v1::UstackClient> client = WaitForClient(*lab_, Finished, 20000);
  std::filesystem::remove(file);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->state(), "done") << client->DebugString();
  EXPECT_EQ(client->bytes_received(), data.size());
  EXPECT_EQ(client->received_fnv1a64(), Fnv1a64(data));
  EXPECT_FALSE(client->received_pattern_ok());
  EXPECT_EQ(client->bytes_sent(), 0u);
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(UstackTcpClientTest, SourceThroughAKernelEchoServerBothWays) {
  constexpr std::size_t kBytes = 4'000'000;
  ASSERT_NO_FATAL_FAILURE(
      StartLab(absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":source:", kBytes),
               {"/usr/bin/python3", "-c", kPythonEcho, kPeerIp, std::to_string(kServerPort)}));
  absl::StatusOr<v1::UstackClient> client = WaitForClient(*lab_, Finished, 20000);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->state(), "done") << client->DebugString();
  EXPECT_EQ(client->bytes_sent(), kBytes);
  EXPECT_EQ(client->bytes_received(), kBytes);
  EXPECT_TRUE(client->received_pattern_ok());
  EXPECT_EQ(client->received_fnv1a64(), Fnv1a64(GeneratedBytes(kBytes)));
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(UstackTcpClientTest, RetriesUntilTheServerListens) {
  constexpr std::size_t kBytes = 100'000;
  ASSERT_NO_FATAL_FAILURE(
      StartLab(absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":source:", kBytes), {}));
  absl::StatusOr<v1::UstackClient> refused = WaitForClient(
      *lab_, [](const v1::UstackClient& c) { return c.connect_attempts() >= 2; }, 5000);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->state(), "connecting");
  EXPECT_EQ(refused->error(), "connection refused");
  absl::StatusOr<int> listener = PeerListen(*lab_, kServerPort);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int connection = AcceptWithin(*listener, 10000);
  ::close(*listener);
  ASSERT_GE(connection, 0) << "no retry reached the server";
  std::string received;
  EXPECT_TRUE(ReadToEnd(connection, received, 5000));
  ::close(connection);
  EXPECT_TRUE(received == GeneratedBytes(kBytes)) << received.size();
  absl::StatusOr<v1::UstackClient> client = WaitForClient(*lab_, Finished, 5000);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->state(), "done") << client->DebugString();
  // At least the refused attempt and the one that reached the server. Not 3: an attempt is
  // counted when it starts, so the second may still be on its way when the server listens.
  EXPECT_GE(client->connect_attempts(), 2u);
  EXPECT_EQ(client->error(), "");
}

}  // namespace
}  // namespace nslab::ustack::testing
