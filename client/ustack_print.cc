#include "client/ustack_print.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/table.h"

namespace nslab::client {

std::string DescribeUstackFault(const nslab::v1::UstackFault& fault) {
  std::string text = fault.mode();
  if (fault.bytes() != 0) {
    absl::StrAppend(&text, " ", fault.bytes(), " bytes");
  }
  if (fault.rate() != 0) {
    absl::StrAppend(&text, " ", fault.rate(), " B/s");
  }
  return text;
}

std::string UstackFaultTable(
    const google::protobuf::RepeatedPtrField<nslab::v1::UstackFault>& faults) {
  if (faults.empty()) {
    return "(none)\n";
  }
  Table table({"PORT", "FAULT"});
  for (const auto& fault : faults) {
    table.AddRow({absl::StrCat("tcp:", fault.port()), DescribeUstackFault(fault)});
  }
  return table.ToString();
}

std::uint64_t LatencyQuantileNs(const nslab::v1::UstackLatencyHistogram& histogram, double q) {
  if (histogram.count() == 0) {
    return 0;
  }
  const auto rank = static_cast<std::uint64_t>(
      std::max(1.0, std::ceil(q * static_cast<double>(histogram.count()))));
  std::uint64_t seen = 0;
  for (const auto& bucket : histogram.buckets()) {
    seen += bucket.count();
    if (seen >= rank) {
      return std::min(bucket.le_ns(), histogram.max_ns());
    }
  }
  return histogram.max_ns();  // in the bucket above every bound
}

namespace {

std::string Micros(std::uint64_t ns) {
  if (ns >= 1'000'000) {
    return absl::StrFormat("%.2f ms", static_cast<double>(ns) / 1e6);
  }
  return absl::StrFormat("%.1f us", static_cast<double>(ns) / 1e3);
}

}  // namespace

std::string UstackServiceTimesText(const nslab::v1::UstackServiceTimes& times) {
  const std::pair<const char*, const nslab::v1::UstackLatencyHistogram*> rows[] = {
      {"handshake (SYN -> SYN-ACK)", &times.handshake()},
      {"answer (request -> response)", &times.answer()}};
  Table table({"TURNS THAT ANSWERED", "COUNT", "P50", "P99", "MAX", "MEAN"});
  std::string buckets;
  for (const auto& [name, histogram] : rows) {
    if (histogram->count() == 0) {
      table.AddRow({name, "0", "-", "-", "-", "-"});
      continue;
    }
    table.AddRow({name, absl::StrCat(histogram->count()),
                  absl::StrCat("<= ", Micros(LatencyQuantileNs(*histogram, 0.5))),
                  absl::StrCat("<= ", Micros(LatencyQuantileNs(*histogram, 0.99))),
                  Micros(histogram->max_ns()), Micros(histogram->sum_ns() / histogram->count())});
    std::vector<std::string> counted;
    for (const auto& bucket : histogram->buckets()) {
      counted.push_back(absl::StrCat("<= ", Micros(bucket.le_ns()), ": ", bucket.count()));
    }
    if (histogram->above_largest_bound() != 0) {
      counted.push_back(absl::StrCat("above: ", histogram->above_largest_bound()));
    }
    absl::StrAppend(&buckets, "  ", name, " buckets: ", absl::StrJoin(counted, ", "), "\n");
  }
  return table.ToString() + buckets;
}

}  // namespace nslab::client
