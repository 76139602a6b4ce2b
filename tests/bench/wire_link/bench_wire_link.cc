// The userspace wire against a veth pair between the same two namespaces: bulk TCP goodput
// (MTU 1500), small-frame UDP packets per second and ping round trips, printed side by side;
// then how closely an impaired wire keeps to its model: the round trip over a 20 ms delay, and
// TCP goodput under a 10 Mbit/s rate against what the rate leaves TCP. (The wire's tests
// assert only the bounds the model sets; these are the figures for how close it gets.)
//
//   sudo build/tests/bench/wire_link/bench_wire_link [--bytes N] [--seconds S] [--repeat R]
//   sudo build/tests/bench/wire_link/bench_wire_link --smoke     (ctest bench.wire_link_smoke)
//
// Each wire is served by one io_context thread, as in the daemon. Rows:
//   wire          unimpaired: its TAPs offer TSO, and 64 KiB super-frames cross userspace whole
//   + 8 flows     the same with eight flows (Link.flows) that match none of the traffic: TSO
//                 goes off, since a flow may act on any MTU-sized frame
//   wire 1us      a 1 us delay both ways: every 1514-byte frame goes through the pipeline
//   + 8 flows     the same with the eight flows: what matching each frame against them costs
//   veth          the kernel's pair with its defaults (TSO/GSO: 64 KiB segments cross it)
//   veth gso 1    the same pair with gso_max_segs 1, i.e. one MTU-sized frame at a time, the
//                 per-frame work the wire does (shown only if the kernel accepts the setting)
// Needs root; makes two namespaces named nslab-wlbench-<pid>-<n> and deletes exactly those.
// Exits non-zero if a transfer does not complete; speed is reported, never asserted.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/impair/flow_match.h"
#include "daemon/wire/tap_link.h"
#include "tests/integration/wire/wire_lab.h"

namespace nslab::testing {
namespace {

constexpr char kAddrA[] = "10.78.0.1";
constexpr char kAddrB[] = "10.78.0.2";
constexpr char kIfname[] = "bench0";

struct Options {
  uint64_t bytes = 1ull << 30;
  double seconds = 3;
  int repeat = 3;
  size_t small_payload = 18;  // 18 bytes of UDP payload: a 60-byte (minimum) Ethernet frame
  int pings = 50;             // round trips timed per row, and over the delayed wire
  uint64_t rate_bytes = 4 << 20;
};

struct Row {
  explicit Row(std::string row_name) : name(std::move(row_name)) {}
  std::string name;
  std::vector<double> mbps;
  std::vector<double> pps;
  std::vector<double> delivered;  // received / sent in the packets/s runs
  std::vector<double> rtt_ms;     // median ping round trip per repetition
};

double Median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

absl::Status AddressBoth(const ScopedNamespace& a, const ScopedNamespace& b) {
  for (const auto& [ns, address] : {std::pair(&a, kAddrA), std::pair(&b, kAddrB)}) {
    auto added =
        Shell(absl::StrCat("ip -n ", ns->name(), " addr replace ", address, "/24 dev ", kIfname,
                           " && ip -n ", ns->name(), " link set ", kIfname, " up"));
    if (!added.ok()) {
      return added.status();
    }
  }
  return absl::OkStatus();
}

absl::Status Measure(const Options& options, const ScopedNamespace& a, const ScopedNamespace& b,
                     Row& row) {
  // One short transfer first: ARP, slow start and cold caches stay out of the numbers.
  if (auto warm = TcpBulk(a.fd(), b.fd(), kAddrB, 1 << 20); !warm.ok()) {
    return warm.status();
  }
  for (int i = 0; i < options.repeat; ++i) {
    auto bulk = TcpBulk(a.fd(), b.fd(), kAddrB, options.bytes);
    if (!bulk.ok()) {
      return absl::Status(bulk.status().code(),
                          absl::StrCat(row.name, " bulk: ", bulk.status().message()));
    }
    row.mbps.push_back(bulk->Mbps());
    auto blast = UdpBlast(a.fd(), b.fd(), kAddrB, options.small_payload, options.seconds);
    if (!blast.ok()) {
      return blast.status();
    }
    if (blast->received == 0) {
      return absl::DataLossError(absl::StrCat(row.name, ": no small frame arrived"));
    }
    row.pps.push_back(blast->ReceivedPps());
    row.delivered.push_back(static_cast<double>(blast->received) /
                            static_cast<double>(std::max<uint64_t>(blast->sent, 1)));
    auto ping = Ping(a.name(), kAddrB, options.pings, 0.01);
    if (!ping.ok()) {
      return ping.status();
    }
    if (ping->received == 0) {
      return absl::DataLossError(absl::StrCat(row.name, ": no ping reply"));
    }
    row.rtt_ms.push_back(ping->MedianMs());
  }
  return absl::OkStatus();
}

// An unimpaired wire named `name` between kIfname in `a` and in `b`.
wire::WireLinkSpec SpecBetween(const std::string& name, const ScopedNamespace& a,
                               const ScopedNamespace& b) {
  wire::WireLinkSpec spec;
  spec.link_name = name;
  spec.ns_a = a.fd();
  spec.ifname_a = kIfname;
  spec.ns_b = b.fd();
  spec.ifname_b = kIfname;
  return spec;
}

// The wire with a->b impaired: first a 20 ms delay (ping), then a 10 Mbit/s rate (bulk TCP).
absl::Status RunImpaired(const Options& options, const ScopedNamespace& a,
                         const ScopedNamespace& b) {
  constexpr uint32_t kDelayMs = 20;
  constexpr uint64_t kRateBps = 10'000'000;
  IoThread io;
  wire::WireLinkSpec spec = SpecBetween("bench-impaired", a, b);
  spec.a_to_b.set_delay_us(kDelayMs * 1000);
  auto link = wire::WireLink::Create(io.io(), spec);
  if (!link.ok()) {
    return link.status();
  }
  absl::Status status = AddressBoth(a, b);
  if (status.ok()) {
    auto ping = Ping(a.name(), kAddrB, options.pings, 0.02);
    if (!ping.ok()) {
      status = ping.status();
    } else if (ping->received == 0) {
      status = absl::DataLossError("delayed wire: no ping reply");
    } else {
      std::printf(
          "  delay %u ms a->b    RTT min %.3f ms, median %.3f ms: median %.3f ms over the "
          "delay\n",
          kDelayMs, ping->MinMs(), ping->MedianMs(), ping->MedianMs() - kDelayMs);
    }
  }
  if (status.ok()) {
    nslab::v1::Impairment rate;
    rate.set_rate_bps(kRateBps);
    status = (*link)->SetImpairment(wire::Direction::kAToB, rate);
  }
  if (status.ok()) {
    auto bulk = TcpBulk(a.fd(), b.fd(), kAddrB, options.rate_bytes);
    if (!bulk.ok()) {
      status = bulk.status();
    } else {
      // The rate counts whole frames: a 1514-byte frame carries 1448 bytes of TCP payload.
      const double expected_mbps = static_cast<double>(kRateBps) / 1e6 * 1448.0 / 1514.0;
      std::printf(
          "  rate %.0f Mbit/s a->b goodput %.3f Mbit/s: %.1f%% of the %.3f the rate "
          "leaves TCP\n",
          static_cast<double>(kRateBps) / 1e6, bulk->Mbps(), 100 * bulk->Mbps() / expected_mbps,
          expected_mbps);
    }
  }
  if (auto stopped = (*link)->Stop(wire::StopMode::kDeleteDevices); !stopped.ok() && status.ok()) {
    status = stopped;
  }
  return status;
}

// The flows of the "+ flows" rows: none matches the bulk TCP or the UDP blast (port 5001 and
// 9), so each frame is matched against all eight and takes the direction's own impairment.
std::vector<wire::FlowRule> NonMatchingFlows() {
  std::vector<wire::FlowRule> flows;
  for (const char* text : {"tcp dport 5432", "tcp dport 6379", "udp dport 53", "udp sport 53",
                           "ip saddr 10.99.0.0/16", "ip daddr 10.99.0.1 tcp", "sctp", "icmpv6"}) {
    nslab::v1::Impairment delay;
    delay.set_delay_us(100'000);
    flows.push_back({*impair::ParseFlowMatch(text), delay});
  }
  return flows;
}

// `own`: both directions' impairment; `flows`: both directions' flows.
absl::Status RunWire(const Options& options, const ScopedNamespace& a, const ScopedNamespace& b,
                     Row& row, const nslab::v1::Impairment& own = {},
                     const std::vector<wire::FlowRule>& flows = {}) {
  IoThread io;
  wire::WireLinkSpec spec = SpecBetween("bench", a, b);
  spec.a_to_b = own;
  spec.b_to_a = own;
  spec.a_to_b_flows = flows;
  spec.b_to_a_flows = flows;
  auto link = wire::WireLink::Create(io.io(), spec);
  if (!link.ok()) {
    return link.status();
  }
  absl::Status status = AddressBoth(a, b);
  if (status.ok()) {
    status = Measure(options, a, b, row);
  }
  const wire::WireCounters a_to_b = (*link)->Counters(wire::Direction::kAToB);
  std::printf("  wire a->b: %lu frames forwarded, %lu oversize, %lu tx dropped, %lu tx errors\n",
              static_cast<unsigned long>(a_to_b.pipeline.forwarded),
              static_cast<unsigned long>(a_to_b.pipeline.dropped_oversize),
              static_cast<unsigned long>(a_to_b.tx_dropped),
              static_cast<unsigned long>(a_to_b.tx_errors));
  if (auto stopped = (*link)->Stop(wire::StopMode::kDeleteDevices); !stopped.ok() && status.ok()) {
    status = stopped;
  }
  return status;
}

absl::Status RunVeth(const Options& options, const ScopedNamespace& a, const ScopedNamespace& b,
                     bool one_segment, Row& row) {
  auto created = Shell(absl::StrCat("ip -n ", a.name(), " link add ", kIfname,
                                    " type veth peer name ", kIfname, " netns ", b.name()));
  if (!created.ok()) {
    return created.status();
  }
  absl::Status status;
  if (one_segment) {
    for (const ScopedNamespace* ns : {&a, &b}) {
      auto set =
          Shell(absl::StrCat("ip -n ", ns->name(), " link set dev ", kIfname, " gso_max_segs 1"));
      if (!set.ok()) {
        status = absl::UnimplementedError("gso_max_segs not settable here");
      }
    }
  }
  if (status.ok()) {
    status = AddressBoth(a, b);
  }
  if (status.ok()) {
    status = Measure(options, a, b, row);
  }
  // Deleting one end removes the pair.
  if (auto deleted = Shell(absl::StrCat("ip -n ", a.name(), " link del ", kIfname));
      !deleted.ok() && status.ok()) {
    status = deleted.status();
  }
  return status;
}

int Main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--smoke") {
      options.bytes = 8 << 20;
      options.seconds = 0.5;
      options.repeat = 1;
      options.pings = 10;
      options.rate_bytes = 1 << 20;
    } else if (arg == "--bytes" && value) {
      options.bytes = std::strtoull(value, nullptr, 10);
      ++i;
    } else if (arg == "--seconds" && value) {
      options.seconds = std::strtod(value, nullptr);
      ++i;
    } else if (arg == "--repeat" && value) {
      options.repeat = std::max(1, std::atoi(value));
      ++i;
    } else {
      std::fprintf(stderr, "usage: %s [--smoke] [--bytes N] [--seconds S] [--repeat R]\n", argv[0]);
      return 2;
    }
  }

  auto a = ScopedNamespace::Create(UniqueNetnsName("nslab-wlbench"));
  if (!a.ok()) {
    std::fprintf(stderr, "namespace: %s\n", a.status().ToString().c_str());
    return 1;
  }
  auto b = ScopedNamespace::Create(UniqueNetnsName("nslab-wlbench"));
  if (!b.ok()) {
    std::fprintf(stderr, "namespace: %s\n", b.status().ToString().c_str());
    return 1;
  }

  std::printf("bulk TCP %.1f MB, small frames %zu-byte UDP payload for %.1f s, median of %d\n",
              static_cast<double>(options.bytes) / 1e6, options.small_payload, options.seconds,
              options.repeat);
  Row wire("wire");
  Row wire_flows("+ 8 flows");
  Row per_frame("wire 1us");
  Row per_frame_flows("+ 8 flows");
  Row veth("veth");
  Row veth_one("veth gso 1");
  // A 1 us delay takes every frame through the pipeline, as any impairment does; the flows'
  // cost is the difference of the rows below it. Flows alone do the same to an unimpaired wire:
  // its TAPs stop offering TSO, since a flow may have to act on each MTU-sized frame.
  nslab::v1::Impairment one_us;
  one_us.set_delay_us(1);
  const std::pair<Row*, std::pair<nslab::v1::Impairment, std::vector<wire::FlowRule>>> wires[] = {
      {&wire, {{}, {}}},
      {&wire_flows, {{}, NonMatchingFlows()}},
      {&per_frame, {one_us, {}}},
      {&per_frame_flows, {one_us, NonMatchingFlows()}}};
  for (const auto& [row, setup] : wires) {
    if (auto status = RunWire(options, **a, **b, *row, setup.first, setup.second); !status.ok()) {
      std::fprintf(stderr, "%s: %s\n", row->name.c_str(), status.ToString().c_str());
      return 1;
    }
  }
  if (auto status = RunVeth(options, **a, **b, false, veth); !status.ok()) {
    std::fprintf(stderr, "veth: %s\n", status.ToString().c_str());
    return 1;
  }
  const absl::Status one_status = RunVeth(options, **a, **b, true, veth_one);
  if (!one_status.ok() && !absl::IsUnimplemented(one_status)) {
    std::fprintf(stderr, "veth gso 1: %s\n", one_status.ToString().c_str());
    return 1;
  }

  std::printf("\n%-12s %14s %14s %12s %14s %12s\n", "path", "bulk Mbit/s", "wire/this", "small pps",
              "delivered", "rtt ms");
  for (const Row* row : {&wire, &wire_flows, &per_frame, &per_frame_flows, &veth, &veth_one}) {
    if (row->mbps.empty()) {
      continue;
    }
    std::printf("%-12s %14.0f %13.2fx %12.0f %13.1f%% %12.3f\n", row->name.c_str(),
                Median(row->mbps), Median(wire.mbps) / Median(row->mbps), Median(row->pps),
                100 * Median(row->delivered), Median(row->rtt_ms));
  }

  std::printf("\nimpaired wire:\n");
  if (auto status = RunImpaired(options, **a, **b); !status.ok()) {
    std::fprintf(stderr, "impaired wire: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace nslab::testing

int main(int argc, char** argv) { return nslab::testing::Main(argc, argv); }
