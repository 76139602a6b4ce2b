#include "daemon/impair/distribution.h"

#include <cmath>
#include <filesystem>
#include <vector>

#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

// Where iproute2 installed its tables: TC_LIB_DIR is /usr/lib/<multiarch triplet>/tc on
// Debian, /usr/lib/tc or /usr/lib64/tc elsewhere, /usr/share/tc on some. Empty if none.
std::string TcLibDir() {
  std::vector<std::filesystem::path> candidates = {"/usr/lib/tc", "/usr/lib64/tc", "/usr/share/tc"};
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib", error)) {
    candidates.push_back(entry.path() / "tc");
  }
  for (const auto& dir : candidates) {
    if (std::filesystem::exists(dir / "normal.dist", error)) {
      return dir.string();
    }
  }
  return "";
}

struct Moments {
  double mean;
  double stddev;
};

template <typename T>
Moments MomentsOf(const std::vector<T>& values) {
  double sum = 0;
  double sum_sq = 0;
  for (T v : values) {
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const double mean = sum / values.size();
  return {mean, std::sqrt(sum_sq / values.size() - mean * mean)};
}

Moments TableMoments(const DistributionTable& table) {
  return MomentsOf(std::vector<int16_t>(table.values().begin(), table.values().end()));
}

std::vector<int64_t> Sample(int64_t mu, int32_t sigma, const DistributionTable* table,
                            uint32_t correlation = 0, size_t n = 100'000) {
  Rng rng(5);
  CorrelatedUniform source;
  source.Reset(correlation, rng);
  std::vector<int64_t> values(n);
  for (int64_t& v : values) {
    v = TableDist(mu, sigma, source, rng, table);
  }
  return values;
}

void ExpectSameAsFile(const DistributionTable& generated, const std::string& name) {
  static const std::string dir = TcLibDir();
  if (dir.empty()) {
    GTEST_SKIP() << "iproute2's delay tables (normal.dist) are not installed";
  }
  const std::string path = dir + "/" + name + ".dist";
  absl::StatusOr<DistributionTable> file = DistributionTable::LoadFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->size(), generated.size());
  for (size_t i = 0; i < generated.size(); ++i) {
    ASSERT_EQ(file->values()[i], generated.values()[i]) << name << " entry " << i;
  }
}

TEST(DistributionTableTest, GeneratedTablesHaveIproute2Shape) {
  for (const auto& table : {NormalTable(), ParetoTable(), ParetoNormalTable()}) {
    EXPECT_EQ(table->size(), 4096u);
  }
  // The normal table is the inverse CDF of N(0, 1) in units of 1/8192.
  EXPECT_EQ(NormalTable()->values()[0], -32768);
  EXPECT_EQ(NormalTable()->values()[2048], 0);
  const Moments normal = TableMoments(*NormalTable());
  EXPECT_NEAR(normal.mean, 0, 30);
  EXPECT_NEAR(normal.stddev, 8192, 100);
}

TEST(DistributionTableTest, GeneratedNormalEqualsInstalledFile) {
  ExpectSameAsFile(*NormalTable(), "normal");
}

TEST(DistributionTableTest, GeneratedParetoEqualsInstalledFile) {
  ExpectSameAsFile(*ParetoTable(), "pareto");
}

TEST(DistributionTableTest, GeneratedParetoNormalEqualsInstalledFile) {
  ExpectSameAsFile(*ParetoNormalTable(), "paretonormal");
}

TEST(DistributionTableTest, ParsesIproute2Format) {
  absl::StatusOr<DistributionTable> table =
      DistributionTable::Parse("# comment\n 1 -2\t3\n\n# another\n-32768 32767\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(std::vector<int16_t>(table->values().begin(), table->values().end()),
            (std::vector<int16_t>{1, -2, 3, -32768, 32767}));
}

TEST(DistributionTableTest, RejectsBadInput) {
  EXPECT_EQ(DistributionTable::Parse("# only a comment\n").status().message(),
            "distribution table has no values");
  EXPECT_EQ(DistributionTable::Parse("1 2\n3 x4\n").status().message(),
            "distribution table line 2: \"x4\" is not an integer");
  EXPECT_EQ(DistributionTable::Parse("40000\n").status().message(),
            "distribution table line 1: 40000 is outside the 16-bit range -32768..32767");
  std::string too_many;
  for (size_t i = 0; i <= kNetemDistMax; ++i) {
    too_many += "1\n";
  }
  EXPECT_FALSE(DistributionTable::Parse(too_many).ok());
  EXPECT_EQ(DistributionTable::LoadFile("/nonexistent.dist").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TableDistTest, NoJitterIsTheDelay) {
  Rng rng(1);
  Rng untouched(1);
  CorrelatedUniform source;
  EXPECT_EQ(TableDist(10'000, 0, source, rng, NormalTable().get()), 10'000);
  EXPECT_EQ(rng.Next64(), untouched.Next64());  // no draw consumed
}

TEST(TableDistTest, UniformWithoutTable) {
  const int64_t mu = 10'000'000;
  const int32_t sigma = 2'000'000;
  const std::vector<int64_t> delays = Sample(mu, sigma, nullptr);
  for (int64_t d : delays) {
    ASSERT_GE(d, mu - sigma);
    ASSERT_LT(d, mu + sigma);
  }
  const Moments m = MomentsOf(delays);
  EXPECT_NEAR(m.mean, mu, 0.01 * sigma);
  EXPECT_NEAR(m.stddev, sigma / std::sqrt(3.0), 0.01 * sigma);
}

TEST(TableDistTest, NormalMeanAndDeviation) {
  const int64_t mu = 40'000'000;  // 40 ms
  const int32_t sigma = 5'000'000;
  const Moments m = MomentsOf(Sample(mu, sigma, NormalTable().get()));
  EXPECT_NEAR(m.mean, mu, 0.02 * sigma);
  EXPECT_NEAR(m.stddev, sigma, 0.02 * sigma);
}

TEST(TableDistTest, FollowsTheTableScaledBySigma) {
  // For every table, delays are mu + sigma * t / 8192 with t drawn from the table.
  const int64_t mu = 20'000'000;
  const int32_t sigma = 3'000'000;
  for (const auto& table : {NormalTable(), ParetoTable(), ParetoNormalTable()}) {
    const Moments t = TableMoments(*table);
    const Moments m = MomentsOf(Sample(mu, sigma, table.get()));
    EXPECT_NEAR(m.mean, mu + sigma * t.mean / kNetemDistScale, 0.02 * sigma);
    EXPECT_NEAR(m.stddev, sigma * t.stddev / kNetemDistScale, 0.03 * sigma);
  }
}

TEST(TableDistTest, ParetoIsSkewed) {
  const std::vector<int64_t> delays = Sample(20'000'000, 3'000'000, ParetoTable().get());
  size_t below_mean = 0;
  for (int64_t d : delays) {
    below_mean += d < 20'000'000;
  }
  EXPECT_GT(below_mean, delays.size() * 6 / 10);  // most below, a long tail above
}

TEST(TableDistTest, DelayCorrelationIsAsIneffectiveAsNetems) {
  // tabledist() reduces the correlated value modulo 2*sigma (uniform) or the table size, which
  // keeps only its low bits, and those are not correlated: in netem delay correlation has no
  // visible effect on the delays, and we do exactly what netem does (see TableDist).
  auto lag1 = [](const std::vector<int64_t>& v) {
    const Moments m = MomentsOf(v);
    double cov = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      cov += (v[i] - m.mean) * (v[i - 1] - m.mean);
    }
    return cov / (v.size() - 1) / (m.stddev * m.stddev);
  };
  for (const DistributionTable* table :
       {static_cast<const DistributionTable*>(nullptr), NormalTable().get()}) {
    EXPECT_NEAR(lag1(Sample(0, 1'000'000, table)), 0, 0.02);
    EXPECT_NEAR(lag1(Sample(0, 1'000'000, table, ScaledPercent(75))), 0, 0.02);
  }
}

TEST(TableDistTest, DelayCorrelationStillChangesTheDraws) {
  // It is not ignored, though: the same seed with and without correlation gives other delays.
  EXPECT_NE(Sample(0, 1'000'000, NormalTable().get(), 0, 100),
            Sample(0, 1'000'000, NormalTable().get(), ScaledPercent(75), 100));
}

}  // namespace
}  // namespace nslab::impair
