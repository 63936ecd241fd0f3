// The sparse primal SVM's policy (svm_spsvm_driver.h): basis cap, functions
// added per round, candidates drawn per round, Newton steps and their stops.
#pragma once
#include <algorithm>
#include <cstdint>

namespace dsdk {
namespace spsvm {

// Keerthi et al. add one function per round chosen from 59 random candidates
// (the best of 59 is in the top 5 % with probability 0.95).
constexpr int64_t kCandidates = 59;
// Every round costs passes over all n points (the f update, the border GEMM),
// so rounds must be few: a round adds |S| / kGrowthDivisor functions (at least
// 1, at most kMaxPerRound, which bounds the candidates' scratch), and draws
// kCandidatesPerAdded candidates per function it adds, so that the chosen ones
// still come from the top of a large sample. (Growth by 1/4 instead of 1/8 per
// round halves the rounds at the same accuracy: 0.9304 either way on
// make_classification 7500 at 2048 functions.)
constexpr int64_t kGrowthDivisor = 4;
constexpr int64_t kMaxPerRound = 256;
constexpr int64_t kCandidatesPerAdded = 6;
// Candidate scores are sums over about this many points (every
// score_stride-th one), while the full kernel rows are computed only for the
// chosen ones. At 10^5 points (single runs, which differ by about 0.05 points):
// scores over 16384 of them cost 0.4 points of test accuracy at 2304
// functions; over 50000 they were no better than over 33334.
constexpr int64_t kScorePoints = 32768;
// One Newton step per round (the next round continues from there); after the
// last round, Newton steps to convergence (at most kNewtonFinal).
constexpr int kNewtonPerRound = 1;
constexpr int kNewtonFinal = 30;
// A Newton step stops the phase when it would gain less than kNewtonStop * tol
// * F (its Newton decrement), or when a step within kUnitStep of 1 left the
// active set as it was (the minimiser for this basis).
constexpr double kNewtonStop = 1e-3;
constexpr double kUnitStep = 1e-6;
constexpr int kMaxLineSteps = 60;
// The basis stops growing once F fell by less than kStopFactor * tol
// (relative) while the basis grew by kCheckGrowth (a fraction of its size).
constexpr double kStopFactor = 1.0;
constexpr double kCheckGrowth = 0.1;
// The Newton matrix's factor grows by border updates; it is rebuilt once this
// fraction of the points changed the active set since its last rebuild.
constexpr double kRefreshFraction = 0.01;

// The largest basis memory allows: the basis kernel rows, (cap + 1) x n
// floats, within 1 GiB; the host's three cap^2 double matrices within 400 MiB.
constexpr int64_t kMaxHostBasis = 4096;
inline int64_t memory_basis(int64_t n) {
  return std::max<int64_t>(1, std::min({n, (int64_t(1) << 28) / n - 1, kMaxHostBasis}));
}

// Basis cap when the caller leaves it to us; the objective's stop may end the
// growth before it. Accuracy grows slowly with the basis while the cost grows
// as n |S|^2 (the Newton matrix's border), so the cap follows the problem's
// size: on the make_classification benchmark (50 features, RBF, C = 1) 1024
// functions bring 3 10^4 points within a point of the exact solver in about a
// second on two cores, and 2304 bring 10^5 points within half a point. Small
// problems get a quarter of their points (at least 64), as accurate as every
// point on digits, breast_cancer and wine. Letting the objective alone decide
// (max_basis = memory_basis) is within half a point at every size measured, but
// at 7500-30000 points it grows the basis to about half the points and is then
// slower than LIBSVM (benchmarks/RESULTS.md, "SPSVM: one driver").
inline int64_t default_basis(int64_t n) {
  const int64_t size_cap = n <= 50000 ? 1024 : 2304;
  const int64_t small = std::max<int64_t>(64, n / 4);
  return std::min({memory_basis(n), size_cap, small});
}

// The basis cap of a solve over n points; requested = the caller's max_basis,
// 0 for the default.
inline int64_t basis_cap(int64_t requested, int64_t n) {
  return requested > 0 ? std::min<int64_t>(requested, n) : default_basis(n);
}

// Functions to add in a round when the basis holds m of at most cap.
inline int64_t growth(int64_t m, int64_t cap) {
  return std::min<int64_t>(cap - m, std::clamp<int64_t>(m / kGrowthDivisor, 1, kMaxPerRound));
}

// Candidates to draw for a round that adds k (fixed: the caller's batch, 0 = automatic).
inline int64_t candidates(int64_t k, int64_t fixed) {
  return fixed > 0 ? fixed : std::max<int64_t>(kCandidates, kCandidatesPerAdded * k);
}

// The widest batch any round draws.
inline int64_t max_candidates(int64_t fixed) { return candidates(kMaxPerRound, fixed); }

// Candidates are scored on the points whose index is a multiple of this.
inline int64_t score_stride(int64_t n) { return std::max<int64_t>(1, n / kScorePoints); }

}  // namespace spsvm
}  // namespace dsdk
