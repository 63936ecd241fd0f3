// The communicator's sums and the agreement check that precedes data-parallel
// training: one all-reduce of a table with a row per rank, so that a bad
// shard or a mismatched setting fails on every rank instead of leaving the
// others waiting in an exchange it never joins.
#include "core/svm_comm.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/context.h"

namespace dsdk {
namespace {

template <typename T>
void sum_as(const SVMComm& c, T* buf, int64_t count, dsdkDataType_t t) {
  if (!c.distributed() || count == 0) return;
  const dsdkStatus_t st = c.all_reduce(buf, count, t, c.user_data);
  if (st != DSDK_STATUS_SUCCESS)
    throw SVMCommError(std::string("the communicator's all-reduce failed (") +
                       dsdkGetErrorString(st) + ")");
}

// Columns of the agreement table. The first ones are per-rank facts; from
// kFirstShared on, the settings every rank must share, named for messages.
enum Field {
  kPresent, kStatus, kRows, kPositives, kNegatives,
  kFirstShared, kBackend = kFirstShared, kSolver, kDtype, kFeatures, kThreads, kKernel, kC, kGamma,
  kCoef0, kDegree, kTol, kMaxIter, kMaxBasis, kCandidates, kSeedHigh, kSeedLow, kWeightPos,
  kWeightNeg, kFields
};
const char* const kSharedNames[kFields - kFirstShared] = {
    "backend", "solver", "dtype", "d", "threads", "kernel", "C", "gamma", "coef0", "degree", "tol",
    "maxIter", "maxBasis", "candidates", "seed (high 32 bits)", "seed (low 32 bits)",
    "weightPositive", "weightNegative"};

void fill_row(const SVMParams& p, const SVMShard& s, double* row) {
  row[kPresent] = 1;
  row[kStatus] = enum_value(s.local_status);
  row[kRows] = double(s.n);
  row[kPositives] = double(s.positives);
  row[kNegatives] = double(s.negatives);
  row[kBackend] = enum_value(s.backend);
  row[kSolver] = enum_value(s.solver);
  row[kDtype] = enum_value(s.dtype);
  row[kFeatures] = double(s.d);
  row[kThreads] = s.threads;
  row[kKernel] = enum_value(p.kernel);
  row[kC] = p.C;
  row[kGamma] = p.gamma;
  row[kCoef0] = p.coef0;
  row[kDegree] = p.degree;
  row[kTol] = p.tol;
  row[kMaxIter] = double(p.max_iter);
  row[kMaxBasis] = p.max_basis;
  row[kCandidates] = p.candidates;
  row[kSeedHigh] = double(p.seed >> 32);
  row[kSeedLow] = double(p.seed & 0xffffffffu);
  row[kWeightPos] = p.weight_pos;
  row[kWeightNeg] = p.weight_neg;
}

// Settings compare bit for bit (each row has one writer, so the sum copies them).
bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

void SVMComm::sum(double* buf, int64_t count) const { sum_as(*this, buf, count, DSDK_DATA_DOUBLE); }
void SVMComm::sum(float* buf, int64_t count) const { sum_as(*this, buf, count, DSDK_DATA_FLOAT); }

dsdkStatus_t agree_on_training(dsdkHandle_t h, const char* api, const SVMParams& p,
                               const SVMShard& shard, SVMComm* comm) {
  const int world = comm->world;
  std::vector<double> table(size_t(world) * kFields, 0.0);
  fill_row(p, shard, &table[size_t(comm->rank) * kFields]);
  try {
    comm->sum(table.data(), int64_t(table.size()));
  } catch (const SVMCommError& e) {
    return fail(h, DSDK_STATUS_EXECUTION_FAILED, "%s: checking the ranks' inputs: %s", api,
                e.what());
  }
  auto at = [&](int r, int f) { return table[size_t(r) * kFields + f]; };
  for (int r = 0; r < world; ++r)
    if (at(r, kPresent) != 1)
      return fail(h, DSDK_STATUS_BAD_PARAM,
                  "%s: %g ranks claimed rank %d of %d; every rank in [0, worldSize) must be "
                  "claimed by one process",
                  api, at(r, kPresent), r, world);
  for (int r = 0; r < world; ++r) {
    const auto st = static_cast<dsdkStatus_t>(int(at(r, kStatus)));
    if (st == DSDK_STATUS_SUCCESS) continue;
    if (r == comm->rank) return st;  // its own message is on the handle already
    return fail(h, st, "%s: rank %d rejected its input (%s); its error names the argument",
                api, r, dsdkGetErrorString(st));
  }
  for (int r = 1; r < world; ++r)
    for (int f = kFirstShared; f < kFields; ++f)
      if (!same(at(r, f), at(0, f)))
        return fail(h, DSDK_STATUS_BAD_PARAM, "%s: rank %d's %s (%.17g) differs from rank 0's (%.17g)",
                    api, r, kSharedNames[f - kFirstShared], at(r, f), at(0, f));
  if (shard.backend != DSDK_BACKEND_CPU || shard.solver != DSDK_SVM_SOLVER_SPSVM)
    return fail(h, DSDK_STATUS_NOT_SUPPORTED,
                "%s: data-parallel training (a communicator over %d ranks) needs the SPSVM solver "
                "on CPU handles",
                api, world);
  double rows = 0, pos = 0, neg = 0, before = 0;
  for (int r = 0; r < world; ++r) {
    if (r == comm->rank) before = rows;
    rows += at(r, kRows);
    pos += at(r, kPositives);
    neg += at(r, kNegatives);
  }
  if (rows < 2)
    return fail(h, DSDK_STATUS_BAD_PARAM, "%s: the %d ranks hold %g rows together; need >= 2",
                api, world, rows);
  if (pos == 0 || neg == 0)
    return fail(h, DSDK_STATUS_BAD_PARAM,
                "%s: the ranks' y hold only the %s class; both +1 and -1 are needed", api,
                pos ? "+1" : "-1");
  comm->row_offset = int64_t(before);
  comm->n_global = int64_t(rows);
  return DSDK_STATUS_SUCCESS;
}

}  // namespace dsdk
