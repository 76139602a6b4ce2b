#include "tests/netem/support/netem_lab.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace nslab::netem {

std::string TwoNodeTopology(const std::string& mode, const std::string& impair_yaml,
                            uint64_t seed) {
  std::string link = absl::StrCat(
      "  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: ", mode);
  if (!impair_yaml.empty()) {
    absl::StrAppend(&link, ", ", impair_yaml);
  }
  return absl::StrCat("seed: ", seed, "\nnodes: {a: {}, b: {}}\nlinks:\n", link, "}\n");
}

ProbedLab::ProbedLab(nslab::testing::TestDaemon* daemon, const std::string& prefix,
                     const std::string& yaml)
    : daemon_(daemon), name_(nslab::testing::UniqueLabName(prefix)) {
  const grpc::Status created = daemon_->CreateFromYaml(yaml, name_);
  if (!created.ok()) {
    error_ = absl::StrCat("create ", name_, ": ", created.error_message());
    return;
  }
  a_ = LabLinkEnd(name_, "a", "eth0", "10.0.0.1");
  b_ = LabLinkEnd(name_, "b", "eth0", "10.0.0.2");
  if (absl::Status quiet = QuietLink(a_, b_); !quiet.ok()) {
    error_ = absl::StrCat("quiet ", name_, ": ", quiet.ToString());
  }
}

ProbedLab::~ProbedLab() { (void)daemon_->Delete(name_); }

absl::Status ProbedLab::Impair(nslab::v1::Direction direction,
                               const nslab::v1::Impairment& impairment) {
  auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  nslab::v1::SetImpairmentRequest request;
  request.set_lab(name_);
  request.set_link("a:eth0");
  request.set_direction(direction);
  *request.mutable_impairment() = impairment;
  nslab::v1::SetImpairmentResponse response;
  grpc::ClientContext context;
  const grpc::Status status = chaos->SetImpairment(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("SetImpairment: ", status.error_message()));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<ProbeRun> Probe(const LinkEnd& from, const LinkEnd& to,
                               const ProbeOptions& options) {
  absl::StatusOr<ProbeRecords> records = RunProbes(from, to, options);
  if (!records.ok()) {
    return records.status();
  }
  ProbeRun run;
  run.stats = Summarize(*records);
  run.records = *std::move(records);
  return run;
}

}  // namespace

absl::StatusOr<ProbeRun> ProbedLab::ProbeAToB(const ProbeOptions& options) {
  return Probe(a_, b_, options);
}

absl::StatusOr<ProbeRun> ProbedLab::ProbeBToA(const ProbeOptions& options) {
  return Probe(b_, a_, options);
}

nslab::v1::WireCounters ProbedLab::WireCountersAToB() {
  auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
  nslab::v1::ListImpairmentsRequest request;
  request.set_lab(name_);
  nslab::v1::ListImpairmentsResponse response;
  grpc::ClientContext context;
  if (!chaos->ListImpairments(&context, request, &response).ok() || response.links_size() == 0) {
    return {};
  }
  return response.links(0).a_to_b_counters();
}

std::string ProbedLab::Qdiscs(const std::string& node) {
  const auto result = daemon_->Exec(name_, node, {"tc", "qdisc", "show", "dev", "eth0"});
  if (result.code != 0) {
    return absl::StrCat("tc failed (", result.code, "): ", result.err);
  }
  // "qdisc netem 8001: root refcnt 2 limit 1000 delay 40ms" -> "netem(root)"; a child names
  // its parent's kind, since handles are the kernel's choice: "tbf(parent netem)".
  std::map<std::string, std::string> kind_of_handle;
  std::vector<std::pair<std::string, std::string>> kind_and_parent;
  for (absl::string_view line : absl::StrSplit(result.out, '\n', absl::SkipEmpty())) {
    const std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() < 4 || words[0] != "qdisc") {
      continue;
    }
    kind_of_handle[std::string(words[2])] = std::string(words[1]);
    std::string parent = words[3] == "parent" && words.size() > 4 ? std::string(words[4]) : "";
    kind_and_parent.emplace_back(std::string(words[1]), parent);
  }
  std::vector<std::string> kinds;
  for (const auto& [kind, parent] : kind_and_parent) {
    if (parent.empty()) {
      kinds.push_back(absl::StrCat(kind, "(root)"));
      continue;
    }
    const std::string parent_handle = parent.substr(0, parent.find(':') + 1);
    const auto found = kind_of_handle.find(parent_handle);
    kinds.push_back(absl::StrCat(kind, "(parent ",
                                 found == kind_of_handle.end() ? parent : found->second, ")"));
  }
  return absl::StrJoin(kinds, " ");
}

void FidelityTable::Add(std::string parameter, std::string spec, std::string expected,
                        std::string measured, bool pass) {
  rows_.push_back(
      Row{std::move(parameter), std::move(spec), std::move(expected), std::move(measured), pass});
}

void FidelityTable::Print() const {
  size_t widths[4] = {9, 4, 8, 8};
  for (const Row& row : rows_) {
    widths[0] = std::max(widths[0], row.parameter.size());
    widths[1] = std::max(widths[1], row.spec.size());
    widths[2] = std::max(widths[2], row.expected.size());
    widths[3] = std::max(widths[3], row.measured.size());
  }
  std::printf("\n%s\n", title_.c_str());
  const auto line = [&](const std::string& a, const std::string& b, const std::string& c,
                        const std::string& d, const char* verdict) {
    std::printf("%-*s | %-*s | %-*s | %-*s | %s\n", static_cast<int>(widths[0]), a.c_str(),
                static_cast<int>(widths[1]), b.c_str(), static_cast<int>(widths[2]), c.c_str(),
                static_cast<int>(widths[3]), d.c_str(), verdict);
  };
  line("parameter", "spec", "expected", "measured", "");
  for (const Row& row : rows_) {
    line(row.parameter, row.spec, row.expected, row.measured, row.pass ? "ok" : "FAIL");
  }
  std::fflush(stdout);
}

}  // namespace nslab::netem
