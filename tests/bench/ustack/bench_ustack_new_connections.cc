// A new connection per request against the ustack node's HTTP service (root; a manual
// measurement, not a ctest): Debian's ab (apache2-utils) in the peer namespace
// (tests/integration/ustack/ustack_lab.h) runs `ab -r -c C -n N` for GET /bytes/100, HTTP/1.0,
// so every request opens, uses and closes its own connection, as thousands of short-lived
// clients would. Prints ab's figures and, from the node, the frames lost for want of an rx
// descriptor (rx_missed_errors) with the ring size used, the listener's drops, the connections
// left in TIME_WAIT and the node's RSS.
//
//   sudo build/release/tests/bench/ustack/bench_ustack_new_connections
//       [--requests 20000] [--concurrency 100] [--rounds 1] [--pause-ms 0] [--rx-ring 256]
//       [--ustack PATH]
//
// --rounds R --pause-ms P runs ab R times with P ms between the runs: with --requests 700 and
// --pause-ms 1000, about 700 requests a second on average instead of as many as ab can.
// --ustack runs another build's nslab-ustack (to compare with an older one).

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/ustack/many_connections.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

struct Options {
  int requests = 20'000;
  int concurrency = 100;
  int rounds = 1;
  int pause_ms = 0;
  int rx_ring = 256;
  std::string ustack = NSLAB_USTACK_BINARY;
};

// ab's lines worth keeping: its rate, its failures, its percentiles.
std::string AbSummary(const std::string& out) {
  std::string summary;
  bool percentiles = false;
  for (const absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StartsWith(line, "Percentage of the requests")) {
      percentiles = true;
    }
    if (absl::StartsWith(line, "Complete requests") || absl::StartsWith(line, "Failed requests") ||
        absl::StartsWith(line, "Non-2xx") || absl::StartsWith(line, "Requests per second") ||
        absl::StartsWith(line, "Time taken") || absl::StartsWith(line, "   Except") ||
        absl::StartsWith(line, "   (Connect") ||
        (percentiles && (absl::StrContains(line, "50%") || absl::StrContains(line, "99%") ||
                         absl::StrContains(line, "100%")))) {
      absl::StrAppend(&summary, "  ", line, "\n");
    }
  }
  return summary;
}

int Run(const Options& options) {
  std::vector<std::string> args = {"--service", "tcp:80:http"};
  if (options.rx_ring != 256) {
    args.insert(args.end(), {"--rx-ring", absl::StrCat(options.rx_ring)});
  }
  absl::StatusOr<std::unique_ptr<UstackLab>> lab = UstackLab::Create(options.ustack, args);
  if (!lab.ok()) {
    std::fprintf(stderr, "lab: %s\n", lab.status().ToString().c_str());
    return 1;
  }
  UstackLab& node = **lab;
  const std::string url = absl::StrCat("http://", kUstackIp, "/bytes/100");
  if (absl::StatusOr<std::string> warm = node.InPeer("curl -sf --max-time 5 -o /dev/null " + url);
      !warm.ok()) {
    std::fprintf(stderr, "the HTTP service does not answer: %s\n",
                 warm.status().ToString().c_str());
    return 1;
  }
  const absl::StatusOr<v1::UstackStats> before = node.Stats();
  if (!before.ok()) {
    std::fprintf(stderr, "stats: %s\n", before.status().ToString().c_str());
    return 1;
  }
  std::string last_ab;
  for (int round = 0; round < options.rounds; ++round) {
    if (round > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_ms));
    }
    const absl::StatusOr<std::string> ab = node.InPeer(
        absl::StrCat("ab -r -c ", options.concurrency, " -n ", options.requests, " ", url));
    if (!ab.ok()) {
      std::fprintf(stderr, "ab: %s\n", ab.status().ToString().c_str());
      return 1;
    }
    last_ab = *ab;
    if (options.rounds > 1) {
      const absl::StatusOr<v1::UstackStats> now = node.Stats();
      std::printf("round %d: rx_missed_errors %llu so far\n", round + 1,
                  now.ok() ? static_cast<unsigned long long>(now->nic().rx_missed_errors() -
                                                             before->nic().rx_missed_errors())
                           : 0ull);
    }
  }
  const absl::StatusOr<v1::UstackStats> after = node.Stats();
  if (!after.ok()) {
    std::fprintf(stderr, "stats: %s\n", after.status().ToString().c_str());
    return 1;
  }
  std::size_t time_wait = 0;
  for (const v1::UstackTcpSocket& socket : after->tcp_sockets()) {
    time_wait += socket.state() == "TIME-WAIT";
  }
  std::printf("ab -r -c %d -n %d %s, %d round(s) %d ms apart, rx ring %u (ab's last round):\n%s",
              options.concurrency, options.requests, url.c_str(), options.rounds, options.pause_ms,
              after->nic_settings().rx_ring(), AbSummary(last_ab).c_str());
  const auto delta = [](std::uint64_t after_value, std::uint64_t before_value) {
    return static_cast<unsigned long long>(after_value - before_value);
  };
  std::printf(
      "node: rx_missed_errors %llu of %llu frames, listen_overflows %llu, listen_drops %llu, "
      "syn_queue_overflows %llu, retrans_segs %llu, passive_opens %llu, TIME-WAIT %zu, RSS %.1f "
      "MiB\n",
      delta(after->nic().rx_missed_errors(), before->nic().rx_missed_errors()),
      delta(after->nic().rx_packets() + after->nic().rx_missed_errors(),
            before->nic().rx_packets() + before->nic().rx_missed_errors()),
      delta(after->tcp().listen_overflows(), before->tcp().listen_overflows()),
      delta(after->tcp().listen_drops(), before->tcp().listen_drops()),
      delta(after->tcp().syn_queue_overflows(), before->tcp().syn_queue_overflows()),
      delta(after->tcp().retrans_segs(), before->tcp().retrans_segs()),
      delta(after->tcp().passive_opens(), before->tcp().passive_opens()), time_wait,
      static_cast<double>(ResidentBytes(node.ustack().pid()).value_or(0)) / 1048576.0);
  return 0;
}

}  // namespace
}  // namespace nslab::ustack::testing

int main(int argc, char** argv) {
  nslab::ustack::testing::Options options;
  CLI::App app{"ab -r (a connection per request) against the ustack's HTTP service"};
  app.add_option("--requests", options.requests, "ab -n")->check(CLI::Range(1, 1 << 30));
  app.add_option("--concurrency", options.concurrency, "ab -c")->check(CLI::Range(1, 1 << 30));
  app.add_option("--rounds", options.rounds, "Runs of ab")->check(CLI::Range(1, 1 << 30));
  app.add_option("--pause-ms", options.pause_ms, "Pause between rounds")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--rx-ring", options.rx_ring, "The node's rx ring entries")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--ustack", options.ustack, "The nslab-ustack binary to measure");
  CLI11_PARSE(app, argc, argv);
  return nslab::ustack::testing::Run(options);
}
