#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/table.h"
#include "daemon/common/units.h"
#include "daemon/impair/flow_match.h"
#include "nslab/v1/chaos.grpc.pb.h"

namespace nslab::client {
namespace {

void PrintImpairments(const nslab::v1::ListImpairmentsResponse& links,
                      const GlobalOptions& options) {
  if (PrintStructured(links, options.output)) {
    return;
  }
  Table table({"LINK", "A->B", "B->A", "BACKEND"});
  Table flows({"LINK", "DIR", "MATCH (first match wins)", "IMPAIRMENT"});
  std::vector<WireCountersRow> counters;
  // A veth's flows are counted by the kernel: what its classifier and numgen drop matched, and
  // its flow's qdisc.
  Table kernel_counters(
      {"VETH", "DIR", "MATCHED", "BYTES", "LOSS", "QUEUE-FULL", "QUEUED", "FORWARDED"});
  bool any_kernel_flow = false;
  bool any_flow = false;
  for (const auto& link : links.links()) {
    table.AddRow({link.link(), DescribeImpairment(link.a_to_b()), DescribeImpairment(link.b_to_a()),
                  link.backend()});
    const bool wire = link.backend() == "wire";
    if (wire) {
      counters.push_back({link.link(), "a->b", &link.a_to_b_counters()});
      counters.push_back({link.link(), "b->a", &link.b_to_a_counters()});
    }
    for (const auto& [dir, states] :
         {std::pair{"a->b", &link.a_to_b_flows()}, std::pair{"b->a", &link.b_to_a_flows()}}) {
      for (const auto& flow : *states) {
        any_flow = true;
        const std::string impairment = flow.impairment().ByteSizeLong() == 0
                                           ? "passes untouched"
                                           : DescribeImpairment(flow.impairment());
        flows.AddRow({link.link(), dir, flow.match_text(), impairment});
        if (wire) {
          counters.push_back({link.link(), absl::StrCat(dir, " ", flow.match_text()),
                              &flow.counters(), /*flow=*/true});
        } else {
          any_kernel_flow = true;
          const auto& c = flow.counters();
          kernel_counters.AddRow({link.link(), absl::StrCat(dir, " ", flow.match_text()),
                                  std::to_string(c.offered()), std::to_string(c.bytes()),
                                  std::to_string(c.dropped_loss()),
                                  std::to_string(c.dropped_queue_full()),
                                  std::to_string(c.queue_depth()), std::to_string(c.forwarded())});
        }
      }
    }
  }
  std::cout << table.ToString();
  if (any_flow) {
    std::cout << "\n" << flows.ToString();
  }
  if (!counters.empty()) {
    std::cout << "\n" << WireCountersTable(counters);
  }
  if (any_kernel_flow) {
    std::cout << "\n" << kernel_counters.ToString();
  }
}

}  // namespace

void AddImpairCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("impair", "Impair a link at runtime (delay, loss, rate, ...)");
  static std::string lab, link, dir = "both", delay, jitter, loss, duplicate, reorder, corrupt,
                                rate, burst, match;
  static uint32_t limit = 0;
  static bool clear = false, show = false, pass = false;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("link", link, "node:interface of either end, or the link's name");
  cmd->add_option("--dir", dir, "a_to_b, b_to_a or both")
      ->check(CLI::IsMember({"a_to_b", "b_to_a", "both"}))
      ->capture_default_str();
  cmd->add_option("--delay", delay, "e.g. 100ms (needs netem in the kernel)");
  cmd->add_option("--jitter", jitter, "e.g. 10ms");
  cmd->add_option("--loss", loss, "e.g. 1%");
  cmd->add_option("--duplicate", duplicate, "e.g. 1%");
  cmd->add_option("--reorder", reorder, "e.g. 25%");
  cmd->add_option("--corrupt", corrupt, "e.g. 0.1%");
  cmd->add_option("--rate", rate, "e.g. 10mbit");
  cmd->add_option("--burst", burst, "e.g. 32kb");
  cmd->add_option("--limit", limit, "queue limit in packets");
  cmd->add_option("--match", match,
                  "Only this flow, said as nftables says it: 'tcp dport 5432', 'udp sport 53', "
                  "'ip daddr 10.0.0.0/24 tcp dport 80-89' (first match wins)");
  cmd->add_flag("--pass", pass, "With --match: the flow passes untouched, ahead of the link's own");
  cmd->add_flag("--clear", clear, "Remove the link's impairment (with --match: that flow)");
  cmd->add_flag("--show", show, "List the lab's impaired links");
  cmd->footer(
      "Examples:\n  nslab impair mylab client:eth0 --dir a_to_b --rate 10mbit --loss 1%\n"
      "  nslab impair mylab client:eth0 --match 'tcp dport 5432' --delay 100ms");
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    // Set answers with the links as List does; both print the same table.
    nslab::v1::ListImpairmentsResponse response;
    grpc::Status status;
    if (show || link.empty()) {
      nslab::v1::ListImpairmentsRequest request;
      request.set_lab(lab);
      status = stub->ListImpairments(NewContext(options).get(), request, &response);
    } else {
      nslab::v1::SetImpairmentRequest request;
      request.set_lab(lab);
      request.set_link(link);
      request.set_direction(dir == "a_to_b"   ? nslab::v1::DIRECTION_A_TO_B
                            : dir == "b_to_a" ? nslab::v1::DIRECTION_B_TO_A
                                              : nslab::v1::DIRECTION_BOTH);
      std::string problem;
      if (!match.empty()) {
        auto parsed = impair::ParseFlowMatch(match);
        parsed.ok() ? void(*request.mutable_match() = *std::move(parsed))
                    : void(problem = absl::StrCat("--match: ", parsed.status().message()));
      } else if (pass) {
        problem = "--pass goes with --match: it lets one flow through untouched";
      }
      // With a match, --clear sends no impairment at all: that removes the flow.
      auto* impairment = (match.empty() || !clear) ? request.mutable_impairment() : nullptr;
      auto duration = [&](const std::string& text, const char* flag, auto set) {
        if (text.empty()) {
          return;
        }
        auto us = ParseDurationUs(text);
        us.ok() ? (impairment->*set)(static_cast<uint32_t>(*us))
                : void(problem = absl::StrCat("--", flag, ": ", us.status().message()));
      };
      auto percent = [&](const std::string& text, const char* flag, auto set) {
        if (text.empty()) {
          return;
        }
        auto value = ParsePercent(text);
        value.ok() ? (impairment->*set)(*value)
                   : void(problem = absl::StrCat("--", flag, ": ", value.status().message()));
      };
      if (!clear && problem.empty()) {
        duration(delay, "delay", &nslab::v1::Impairment::set_delay_us);
        duration(jitter, "jitter", &nslab::v1::Impairment::set_jitter_us);
        percent(loss, "loss", &nslab::v1::Impairment::set_loss);
        percent(duplicate, "duplicate", &nslab::v1::Impairment::set_duplicate);
        percent(reorder, "reorder", &nslab::v1::Impairment::set_reorder);
        percent(corrupt, "corrupt", &nslab::v1::Impairment::set_corrupt);
        if (!rate.empty()) {
          auto bps = ParseRateBps(rate);
          bps.ok() ? impairment->set_rate_bps(*bps)
                   : void(problem = absl::StrCat("--rate: ", bps.status().message()));
        }
        if (!burst.empty()) {
          auto bytes = ParseSizeBytes(burst);
          bytes.ok() ? impairment->set_burst_bytes(static_cast<uint32_t>(*bytes))
                     : void(problem = absl::StrCat("--burst: ", bytes.status().message()));
        }
        impairment->set_limit_packets(limit);
        if (pass && impairment->ByteSizeLong() != 0) {
          problem = "--pass lets the flow through untouched: give it without --delay --loss ...";
        } else if (problem.empty() && impairment->ByteSizeLong() == 0 && !pass) {
          problem = match.empty() ? "give at least one of --delay --loss --rate ... or --clear"
                                  : "give at least one of --delay --loss --rate ..., --pass or "
                                    "--clear";
        }
      }
      if (!problem.empty()) {
        std::cerr << "nslab impair: " << problem << "\n";
        exit_code = 2;
        return;
      }
      nslab::v1::SetImpairmentResponse set;
      status = stub->SetImpairment(NewContext(options).get(), request, &set);
      response.mutable_links()->Swap(set.mutable_links());
    }
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    PrintImpairments(response, options);
  });
}

}  // namespace nslab::client
