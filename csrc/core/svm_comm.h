// Data-parallel SVM training (dsdkSetSVMCommunicator) as the solvers see it:
// sums over the ranks, and where this rank's rows sit among all ranks' rows.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "core/svm_params.h"

namespace dsdk {

// Thrown by SVMComm::sum when the caller's all-reduce fails: the solvers call
// it deep inside their loops, from the calling thread only, and the C API
// entry point turns it into EXECUTION_FAILED.
struct SVMCommError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SVMComm {
  dsdkSVMAllReduceFn all_reduce = nullptr;  // null: one process
  void* user_data = nullptr;
  int rank = 0, world = 1;
  // Set by agree_on_training: the index of this rank's row 0 among all rows
  // (the shards concatenated in rank order), and the number of all rows.
  int64_t row_offset = 0, n_global = 0;

  // One process holding all n rows: sums are no-ops, ids are local rows.
  static SVMComm alone(int64_t n) {
    SVMComm c;
    c.n_global = n;
    return c;
  }

  bool distributed() const { return all_reduce != nullptr && world > 1; }
  // buf[0 .. count) summed over the ranks, in place (no-op on one process).
  void sum(double* buf, int64_t count) const;
  void sum(float* buf, int64_t count) const;

  // This rank's row of the global row `id`, or -1 when another rank owns it
  // (n_local: the rows this rank holds).
  int64_t local(int64_t id, int64_t n_local) const {
    const int64_t i = id - row_offset;
    return i >= 0 && i < n_local ? i : -1;
  }
  // The first of this rank's rows whose global id is a multiple of stride.
  int64_t first_multiple(int64_t stride) const { return (stride - row_offset % stride) % stride; }
  // out (count x d, row-major) = the global rows ids of X on every rank: each
  // owner copies its rows from its X (n_local x d), the others write zeros,
  // and one sum adds them up (exactly: every sum has one non-zero term).
  template <typename T>
  void gather_rows(const T* X, int64_t n_local, int64_t d, const int64_t* ids, int64_t count,
                   T* out) const {
    for (int64_t t = 0; t < count; ++t) {
      const int64_t i = local(ids[t], n_local);
      for (int64_t c = 0; c < d; ++c) out[t * d + c] = i >= 0 ? X[i * d + c] : T(0);
    }
    sum(out, count * d);
  }
};

// What every rank contributes to the check before training: its own input's
// verdict and the settings that must agree.
struct SVMShard {
  dsdkStatus_t local_status;  // this rank's argument checks
  dsdkBackend_t backend;
  dsdkSVMSolver_t solver;
  dsdkDataType_t dtype;
  int64_t n, d, positives, negatives;
  // The host threads: the Newton solves every rank repeats must round alike,
  // or the ranks' control flow (and with it their exchanges) would part.
  int threads;
};

// One all-reduce of every rank's SVMShard and settings; every rank reaches the
// same verdict (the first rank at fault is named). On success fills
// comm->row_offset and comm->n_global. A failed exchange is EXECUTION_FAILED.
dsdkStatus_t agree_on_training(dsdkHandle_t h, const char* api, const SVMParams& p,
                               const SVMShard& shard, SVMComm* comm);

}  // namespace dsdk
