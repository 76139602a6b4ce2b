#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace nslab::netem {

// One frame the receiving interface saw that carried a probe whole: sequence number, the send
// time written into it by the sender, the kernel's receive time (both CLOCK_REALTIME, ns), and
// the frame's length on the wire (Ethernet header included, no FCS).
struct ProbeArrival {
  uint32_t seq = 0;
  int64_t sent_ns = 0;
  int64_t received_ns = 0;
  uint32_t frame_bytes = 0;
};

// What a probe run saw, in arrival order. `sent` probes carried seq 0 .. sent-1.
struct ProbeRecords {
  uint32_t sent = 0;
  std::vector<ProbeArrival> arrivals;  // intact probe frames, duplicates included
  uint64_t corrupted = 0;              // probe-sized frames that failed a check
  uint64_t foreign = 0;                // other frames (ARP, IPv6, ...): a quiet link has none
  uint64_t capture_drops = 0;          // frames the capture socket's buffer lost
};

// Order statistics over a sample; nearest rank: the smallest value with at least p of the
// sample at or below it.
struct DelayStats {
  uint64_t count = 0;
  double mean_ns = 0;
  double stddev_ns = 0;  // sample standard deviation (n - 1)
  int64_t min_ns = 0;
  int64_t p10_ns = 0;
  int64_t p25_ns = 0;
  int64_t p50_ns = 0;
  int64_t p75_ns = 0;
  int64_t p90_ns = 0;
  int64_t p99_ns = 0;
  int64_t max_ns = 0;
  // Correlation of the delays of probes adjacent in sequence that both arrived (lag 1); 0 when
  // there are fewer than three such pairs or the delays do not vary.
  double lag1_autocorrelation = 0;
};

struct ProbeStats {
  uint32_t sent = 0;
  uint32_t delivered = 0;  // sequence numbers with at least one intact arrival
  uint32_t lost = 0;       // sent - delivered
  double loss_rate = 0;    // lost / sent
  // Runs of consecutive lost sequence numbers: length -> how many runs. A run that reaches the
  // last probe counts, although the loss after it cannot be seen.
  std::map<uint32_t, uint32_t> loss_bursts;
  uint32_t loss_burst_count = 0;
  double mean_loss_burst = 0;
  uint64_t duplicates = 0;  // intact arrivals of a sequence number already seen
  // First arrivals whose sequence number is below the largest one seen before them.
  uint64_t reordered = 0;
  uint64_t corrupted = 0;
  uint64_t foreign = 0;
  uint64_t capture_drops = 0;
  DelayStats delay;  // one-way delay of each sequence number's first intact arrival
  // Frame bits delivered per second between the first and the last first-arrival: (frames - 1)
  // frames' bits over that span, since the first frame's bits arrived before the span began.
  double throughput_bps = 0;
};

// Percentile of `sorted` (ascending, non-empty) by nearest rank, `fraction` in (0, 1].
int64_t NearestRank(const std::vector<int64_t>& sorted, double fraction);

// Lag-1 autocorrelation of `series` (NaN = missing): Pearson's correlation of the adjacent
// pairs (x_i, x_i+1) that are both present; 0 with fewer than three pairs or no variance.
double Lag1Autocorrelation(const std::vector<double>& series);

// Lengths of the runs of `true` in `lost` (indexed by sequence number): length -> count.
std::map<uint32_t, uint32_t> RunLengths(const std::vector<bool>& lost);

ProbeStats Summarize(const ProbeRecords& records);

// Delivered frame bits per second over consecutive windows of `frames` first arrivals each (in
// arrival order): window i spans arrivals i*frames .. (i+1)*frames and counts the bits of the
// `frames` frames after its first. One number per complete window.
std::vector<double> WindowThroughputs(const ProbeRecords& records, uint32_t frames);

// The median of `values` (the lower middle one for an even count); 0 when empty.
double Median(std::vector<double> values);

}  // namespace nslab::netem
