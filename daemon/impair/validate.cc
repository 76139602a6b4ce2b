#include "daemon/impair/validate.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "proto/enum_defaults.h"

namespace nslab::impair {
namespace {

class Problems {
 public:
  void Percent(absl::string_view field, double value) {
    // Also rejects NaN, and -0: it compares equal to 0 but is stored as set, and no
    // topology file can spell it.
    if (!(value >= 0 && value <= 100) || std::signbit(value)) {
      Add(absl::StrCat(field, " must be in 0..100 (percent), got ", value));
    }
  }
  void Add(std::string problem) { problems_.push_back(std::move(problem)); }

  absl::Status ToStatus() const {
    if (problems_.empty()) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrJoin(problems_, "; "));
  }

 private:
  std::vector<std::string> problems_;
};

}  // namespace

bool HasGilbertElliott(const nslab::v1::Impairment& impairment) {
  if (!impairment.has_gilbert_elliott()) {
    return false;
  }
  const nslab::v1::GilbertElliott& ge = impairment.gilbert_elliott();
  return ge.p() != 0 || ge.r() != 0 || ge.h() != 0 || ge.k() != 0;
}

bool HasTrace(const nslab::v1::Impairment& impairment) {
  return !impairment.trace_file().empty() || !impairment.trace().empty();
}

absl::Status ValidateImpairment(const nslab::v1::Impairment& impairment) {
  Problems problems;

  // Delay and jitter.
  if (impairment.jitter_us() > kMaxJitterUs) {
    problems.Add(absl::StrCat("jitter_us must be in 0..", kMaxJitterUs,
                              " (netem caps jitter at 2^31-1 ns), got ", impairment.jitter_us()));
  }
  problems.Percent("delay_correlation", impairment.delay_correlation());
  if (impairment.delay_correlation() > 0 && impairment.jitter_us() == 0) {
    problems.Add("delay_correlation needs jitter_us > 0 (it correlates the jitter)");
  }
  if (!nslab::v1::DelayDistribution_IsValid(impairment.distribution())) {
    problems.Add(
        absl::StrCat("distribution must be one of uniform, normal, pareto, paretonormal, "
                     "got ",
                     impairment.distribution()));
  } else if (!nslab::v1::IsUniform(impairment.distribution()) && impairment.jitter_us() == 0) {
    problems.Add("distribution needs jitter_us > 0 (it shapes the jitter)");
  }

  // Loss: one model at a time, as in netem.
  problems.Percent("loss", impairment.loss());
  problems.Percent("loss_correlation", impairment.loss_correlation());
  if (impairment.loss_correlation() > 0 && !(impairment.loss() > 0)) {
    problems.Add("loss_correlation needs loss > 0");
  }
  const nslab::v1::GilbertElliott& ge = impairment.gilbert_elliott();
  problems.Percent("gilbert_elliott.p", ge.p());
  problems.Percent("gilbert_elliott.r", ge.r());
  problems.Percent("gilbert_elliott.h", ge.h());
  problems.Percent("gilbert_elliott.k", ge.k());
  if (HasGilbertElliott(impairment)) {
    if (impairment.loss() > 0) {
      problems.Add("loss and gilbert_elliott cannot both be set: netem runs one loss model");
    }
    if (ge.p() > 0 && !(ge.r() > 0)) {
      problems.Add("gilbert_elliott.r must be in (0..100] when p > 0, or the bad state never ends");
    }
    if (ge.p() > 0 && ge.h() == 0 && ge.k() == 0) {
      problems.Add(
          "gilbert_elliott loses nothing: h (loss in the bad state, netem's 1-h) and k (loss in "
          "the good state, netem's 1-k) are both 0; a simple Gilbert model has h: 100");
    }
  }

  // Duplication, corruption, reordering.
  problems.Percent("duplicate", impairment.duplicate());
  problems.Percent("corrupt", impairment.corrupt());
  problems.Percent("reorder", impairment.reorder());
  if (impairment.reorder() > 0 && impairment.delay_us() == 0) {
    problems.Add("reorder needs delay_us > 0: frames are reordered by skipping the delay");
  }
  if (impairment.reorder_gap() > 0 && !(impairment.reorder() > 0)) {
    problems.Add("reorder_gap needs reorder > 0");
  }

  // Bandwidth.
  if (impairment.burst_bytes() > 0 && impairment.rate_bps() == 0) {
    problems.Add("burst_bytes needs rate_bps > 0");
  }
  if (impairment.limit_packets() > kMaxLimitPackets) {
    problems.Add(absl::StrCat("limit_packets must be in 0..", kMaxLimitPackets,
                              " (0 = netem's default of 1000), got ", impairment.limit_packets()));
  }
  if (HasTrace(impairment) && impairment.rate_bps() > 0) {
    problems.Add("trace_file and rate_bps cannot both be set: the trace is the rate");
  }

  return problems.ToStatus();
}

}  // namespace nslab::impair
