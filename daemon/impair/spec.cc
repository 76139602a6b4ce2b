#include "daemon/impair/spec.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "daemon/common/file_text.h"
#include "daemon/impair/correlated.h"
#include "daemon/impair/validate.h"

namespace nslab::impair {

absl::StatusOr<ImpairmentSpec> CompileImpairment(const nslab::v1::Impairment& impairment) {
  if (absl::Status status = ValidateImpairment(impairment); !status.ok()) {
    return status;
  }
  ImpairmentSpec spec;
  spec.delay_ns = static_cast<int64_t>(impairment.delay_us()) * 1000;
  spec.jitter_ns = static_cast<int32_t>(impairment.jitter_us() * 1000);
  spec.delay_correlation = ScaledPercent(impairment.delay_correlation());
  switch (impairment.distribution()) {
    case nslab::v1::DELAY_DISTRIBUTION_NORMAL:
      spec.distribution = NormalTable();
      break;
    case nslab::v1::DELAY_DISTRIBUTION_PARETO:
      spec.distribution = ParetoTable();
      break;
    case nslab::v1::DELAY_DISTRIBUTION_PARETONORMAL:
      spec.distribution = ParetoNormalTable();
      break;
    default:
      break;
  }

  if (HasGilbertElliott(impairment)) {
    const nslab::v1::GilbertElliott& ge = impairment.gilbert_elliott();
    spec.loss = GilbertElliottParams::FromNetemArgs(ge.p(), ge.r(), ge.h(), ge.k());
  } else if (impairment.loss() > 0) {
    spec.loss = RandomLossParams{ScaledPercent(impairment.loss()),
                                 ScaledPercent(impairment.loss_correlation())};
  }

  spec.duplicate = ScaledPercent(impairment.duplicate());
  spec.corrupt = ScaledPercent(impairment.corrupt());
  spec.reorder = ScaledPercent(impairment.reorder());
  spec.reorder_gap = impairment.reorder_gap();
  if (spec.reorder != 0 && spec.reorder_gap == 0) {
    spec.reorder_gap = 1;
  }

  spec.rate_bps = impairment.rate_bps();
  spec.burst_bytes = impairment.burst_bytes();
  if (impairment.limit_packets() != 0) {
    spec.limit_packets = impairment.limit_packets();
  }
  if (!impairment.trace_file().empty() && impairment.trace().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace_file: ", ClientFileNotSent(impairment.trace_file(), "trace")));
  }
  if (!impairment.trace().empty()) {
    absl::StatusOr<DeliveryTrace> trace = DeliveryTrace::Parse(impairment.trace());
    if (!trace.ok()) {
      const std::string name = impairment.trace_file().empty()
                                   ? std::string("trace")
                                   : absl::StrCat("trace_file ", impairment.trace_file());
      return absl::Status(trace.status().code(),
                          absl::StrCat(name, ": ", trace.status().message()));
    }
    spec.trace = std::make_shared<const DeliveryTrace>(*std::move(trace));
  }
  return spec;
}

bool IsUnimpaired(const ImpairmentSpec& spec) {
  const auto* random = std::get_if<RandomLossParams>(&spec.loss);
  const bool lossless =
      std::holds_alternative<std::monostate>(spec.loss) || (random && random->probability == 0);
  return spec.delay_ns == 0 && spec.jitter_ns == 0 && lossless && spec.duplicate == 0 &&
         spec.corrupt == 0 && spec.reorder == 0 && spec.rate_bps == 0 && !spec.trace;
}

}  // namespace nslab::impair
