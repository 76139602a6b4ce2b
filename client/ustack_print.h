#pragma once

// How the CLI prints a ustack node's faults, for `nslab ustack` and `nslab show`, and its
// service times, for `nslab ustack stats`.

#include <cstdint>
#include <string>

#include "google/protobuf/repeated_ptr_field.h"
#include "nslab/v1/ustack.pb.h"

namespace nslab::client {

// "close-wait", "reset-after 1000 bytes", "slow-read 4096 B/s".
std::string DescribeUstackFault(const nslab::v1::UstackFault& fault);

// A PORT / FAULT table, or "(none)\n" when no fault is in force.
std::string UstackFaultTable(
    const google::protobuf::RepeatedPtrField<nslab::v1::UstackFault>& faults);

// An upper bound of the q-quantile (0 < q <= 1): the bound of the bucket that holds it, or the
// largest sample when that is lower. 0 when the histogram is empty.
std::uint64_t LatencyQuantileNs(const nslab::v1::UstackLatencyHistogram& histogram, double q);

// A table of the handshake and answer histograms (turns, p50, p99, max, mean) and each one's
// buckets; says so when nothing was answered yet.
std::string UstackServiceTimesText(const nslab::v1::UstackServiceTimes& times);

}  // namespace nslab::client
