#include "daemon/impair/distribution.h"

#include <charconv>
#include <climits>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/common/file_text.h"

namespace nslab::impair {
namespace {

// Constants of iproute2's netem/*.c generators.
constexpr int kTableSize = 16384;  // TABLESIZE: the CDF resolution before taking every 4th
constexpr double kParetoAlpha = 3.0;

double NormalCdf(double x) { return .5 + .5 * std::erf(x / std::sqrt(2.0)); }

int16_t ClampShort(long value) {
  if (value < SHRT_MIN) {
    return SHRT_MIN;
  }
  if (value > SHRT_MAX) {
    return SHRT_MAX;
  }
  return static_cast<int16_t>(value);
}

// normal.c: invert the CDF by sweeping x and remembering, for each CDF bucket, the last x that
// rounded into it. The sweep accumulates in double exactly as the C loop does, so the table
// comes out identical to normal.dist.
std::vector<double> InverseNormalCdf() {
  std::vector<double> table(kTableSize + 1, 0.0);
  for (double x = -10.0; x < 10.05; x += .00005) {
    const int i = static_cast<int>(std::rint(kTableSize * NormalCdf(x)));
    table[i] = x;
  }
  return table;
}

// pareto.c / paretonormal.c: Pareto with alpha 3, shifted to mean 0 and scaled by 4/3.
int ParetoValue(int i) {
  double value = static_cast<double>(i) / 65536.0;
  value = 1.0 / std::pow(value, 1.0 / kParetoAlpha);
  value -= 1.5;
  value *= (4.0 / 3.0) * static_cast<double>(kNetemDistScale);
  if (value > 32767) {
    value = 32767;
  }
  return static_cast<int>(std::rint(value));
}

}  // namespace

absl::StatusOr<DistributionTable> DistributionTable::Parse(std::string_view input) {
  // absl::string_view, not std's: this abseil build keeps its own type, which StrCat takes.
  absl::string_view text(input.data(), input.size());
  std::vector<int16_t> values;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    absl::string_view line = text.substr(0, end);
    text = end == absl::string_view::npos ? absl::string_view() : text.substr(end + 1);
    if (!line.empty() && line.front() == '#') {
      continue;
    }
    while (true) {
      const size_t start = line.find_first_not_of(" \t\r");
      if (start == absl::string_view::npos) {
        break;
      }
      line.remove_prefix(start);
      long value = 0;
      const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
      const size_t token_end = line.find_first_of(" \t\r");
      const absl::string_view token = line.substr(0, token_end);
      if (ec != std::errc() || ptr != token.data() + token.size()) {
        return absl::InvalidArgumentError(absl::StrCat("distribution table line ", line_number,
                                                       ": \"", token, "\" is not an integer"));
      }
      if (value < SHRT_MIN || value > SHRT_MAX) {
        return absl::InvalidArgumentError(
            absl::StrCat("distribution table line ", line_number, ": ", value,
                         " is outside the 16-bit range -32768..32767"));
      }
      if (values.size() == kNetemDistMax) {
        return absl::InvalidArgumentError(absl::StrCat("distribution table has more than ",
                                                       kNetemDistMax,
                                                       " values (netem's NETEM_DIST_MAX)"));
      }
      values.push_back(static_cast<int16_t>(value));
      line.remove_prefix(token.size());
    }
  }
  if (values.empty()) {
    return absl::InvalidArgumentError("distribution table has no values");
  }
  return DistributionTable(std::move(values));
}

absl::StatusOr<DistributionTable> DistributionTable::LoadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("distribution table ", path, ": cannot open"));
  }
  absl::StatusOr<DistributionTable> table = Parse(*text);
  if (!table.ok()) {
    return absl::Status(table.status().code(), absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

DistributionTable DistributionTable::GenerateNormal() {
  const std::vector<double> inverse = InverseNormalCdf();
  std::vector<int16_t> values;
  values.reserve(kTableSize / 4);
  for (int i = 0; i < kTableSize; i += 4) {
    values.push_back(ClampShort(std::lrint(inverse[i] * kNetemDistScale)));
  }
  return DistributionTable(std::move(values));
}

DistributionTable DistributionTable::GeneratePareto() {
  std::vector<int16_t> values;
  values.reserve(kTableSize / 4);
  for (int i = 65536; i > 0; i -= 16) {
    values.push_back(static_cast<int16_t>(ParetoValue(i)));
  }
  return DistributionTable(std::move(values));
}

// paretonormal.c: .25 * normal + .75 * pareto, point by point, with C's truncating division.
DistributionTable DistributionTable::GenerateParetoNormal() {
  const std::vector<double> inverse = InverseNormalCdf();
  std::vector<int16_t> values;
  values.reserve(kTableSize / 4);
  for (int i = 0; i < kTableSize; i += 4) {
    const int normal = static_cast<int>(std::rint(inverse[i] * kNetemDistScale));
    const int pareto = ParetoValue(65536 - 4 * i);
    values.push_back(ClampShort((normal + 3 * pareto) / 4));
  }
  return DistributionTable(std::move(values));
}

const std::shared_ptr<const DistributionTable>& NormalTable() {
  static const auto* const table = new std::shared_ptr<const DistributionTable>(
      std::make_shared<const DistributionTable>(DistributionTable::GenerateNormal()));
  return *table;
}

const std::shared_ptr<const DistributionTable>& ParetoTable() {
  static const auto* const table = new std::shared_ptr<const DistributionTable>(
      std::make_shared<const DistributionTable>(DistributionTable::GeneratePareto()));
  return *table;
}

const std::shared_ptr<const DistributionTable>& ParetoNormalTable() {
  static const auto* const table = new std::shared_ptr<const DistributionTable>(
      std::make_shared<const DistributionTable>(DistributionTable::GenerateParetoNormal()));
  return *table;
}

int64_t TableDist(int64_t mu, int32_t sigma, CorrelatedUniform& source, Rng& rng,
                  const DistributionTable* table) {
  if (sigma == 0) {
    return mu;
  }
  const uint32_t rnd = source.Next(rng);
  if (table == nullptr) {
    return static_cast<int64_t>(rnd % (2 * static_cast<uint32_t>(sigma))) + mu - sigma;
  }
  const int64_t t = table->values()[rnd % table->size()];
  int64_t x = (sigma % kNetemDistScale) * t;
  if (x >= 0) {
    x += kNetemDistScale / 2;
  } else {
    x -= kNetemDistScale / 2;
  }
  return x / kNetemDistScale + (sigma / kNetemDistScale) * t + mu;
}

}  // namespace nslab::impair
