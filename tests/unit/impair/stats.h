#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace nslab::impair::testing {

// z for a two-sided 99% interval.
inline constexpr double kZ99 = 2.5758293035489;

// Half-width of the 99% interval for a count of events in n trials whose per-trial variance is
// `variance` (p(1-p) for independent trials: the binomial interval).
inline double HalfWidth99(size_t n, double variance) { return kZ99 * std::sqrt(n * variance); }

// Per-trial asymptotic variance of a loss indicator driven by a finite Markov chain: the frame's
// fate is Bernoulli(q[state]) in the state the chain has just entered. This is the binomial
// p(1-p) when the chain has no memory, and larger when losses come in bursts (the same CLT,
// counting the autocovariances):
//   sigma^2 = sum_i pi_i q_i (1 - q_i) + Var(q(X)) + 2 sum_{k>=1} Cov(q(X_0), q(X_k)).
inline double ChainVariance(const std::vector<std::vector<double>>& transition,
                            const std::vector<double>& q) {
  const size_t n = q.size();
  // Stationary distribution by power iteration.
  std::vector<double> pi(n, 1.0 / n);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::vector<double> next(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        next[j] += pi[i] * transition[i][j];
      }
    }
    pi = next;
  }
  double mean = 0;
  double noise = 0;
  for (size_t i = 0; i < n; ++i) {
    mean += pi[i] * q[i];
    noise += pi[i] * q[i] * (1 - q[i]);
  }
  std::vector<double> centered(n);
  double variance = 0;
  for (size_t i = 0; i < n; ++i) {
    centered[i] = q[i] - mean;
    variance += pi[i] * centered[i] * centered[i];
  }
  // v_k = P^k (q - mean); Cov_k = sum_i pi_i (q_i - mean) v_k[i].
  double covariances = 0;
  std::vector<double> v = centered;
  for (int k = 1; k < 100000; ++k) {
    std::vector<double> next(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        next[i] += transition[i][j] * v[j];
      }
    }
    v = next;
    double cov = 0;
    for (size_t i = 0; i < n; ++i) {
      cov += pi[i] * centered[i] * v[i];
    }
    covariances += cov;
    if (std::abs(cov) < 1e-15) {
      break;
    }
  }
  return noise + variance + 2 * covariances;
}

// Mean length of runs of `true`.
template <typename Container>
double MeanRunLength(const Container& events) {
  size_t runs = 0;
  size_t total = 0;
  bool previous = false;
  for (bool event : events) {
    if (event) {
      ++total;
      if (!previous) {
        ++runs;
      }
    }
    previous = event;
  }
  return runs == 0 ? 0.0 : static_cast<double>(total) / runs;
}

}  // namespace nslab::impair::testing
