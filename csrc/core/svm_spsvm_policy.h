// The sparse primal SVM's growth policy, shared by the CPU and CUDA solvers so
// that both build the same kind of model from the same settings: default
// basis size, functions added per round, candidates drawn per round, Newton
// steps per round. (Only the policy is shared; each backend has its own
// arithmetic, so the chosen bases can still differ by rounding.)
#pragma once
#include <algorithm>
#include <cstdint>

namespace dsdk {
namespace spsvm {

// Keerthi et al. add one function per round chosen from 59 random candidates
// (the best of 59 is in the top 5 % with probability 0.95).
constexpr int64_t kCandidates = 59;
// Every round costs passes over all n points, so rounds must be few: a round
// adds |S| / kGrowthDivisor functions (at least 1, at most kMaxPerRound), and
// draws kCandidatesPerAdded candidates per function it adds, so that the
// chosen ones still come from the top of a large sample.
constexpr int64_t kGrowthDivisor = 8;
constexpr int64_t kMaxPerRound = 96;
constexpr int64_t kCandidatesPerAdded = 6;
// One Newton step per round (the next round continues from there); after the
// last round, Newton steps to convergence (at most kNewtonFinal).
constexpr int kNewtonPerRound = 1;
constexpr int kNewtonFinal = 30;

// Basis size when the caller leaves it to us. Accuracy grows slowly with the
// basis while the cost grows as n |S|^2 (the Hessian border). On the
// make_classification benchmark (50 features, RBF, C = 1; two cores) 1024
// functions bring 3 10^4 points within a point of the exact solver's accuracy
// in about a second, and 2304 bring 10^5 points within half a point in about
// ten seconds (2048: at the half-point edge in 8 s; 2560: 11.5 s). Small
// problems get a quarter of their points (at least 64): on digits, breast
// cancer and wine that is as accurate as using every point, which the
// objective-based stop alone would otherwise nearly do. The kernel rows are
// capped at 1 GiB (2^28 floats).
inline int64_t auto_max_basis(int64_t n) {
  const int64_t cap = n <= 50000 ? 1024 : 2304;
  const int64_t small = std::max<int64_t>(64, n / 4);
  return std::max<int64_t>(1, std::min({n, cap, small, (int64_t(1) << 28) / n}));
}

// Functions to add in a round when the basis holds m of at most max_basis.
inline int64_t growth(int64_t m, int64_t max_basis) {
  return std::min<int64_t>(max_basis - m, std::clamp<int64_t>(m / kGrowthDivisor, 1,
                                                              kMaxPerRound));
}

// Candidates to draw for a round that adds k (candidates: the caller's fixed
// batch, 0 = automatic).
inline int64_t candidates(int64_t k, int64_t fixed) {
  return fixed > 0 ? fixed : std::max<int64_t>(kCandidates, kCandidatesPerAdded * k);
}

// The widest batch any round draws.
inline int64_t max_candidates(int64_t fixed) {
  return candidates(kMaxPerRound, fixed);
}

}  // namespace spsvm
}  // namespace dsdk
