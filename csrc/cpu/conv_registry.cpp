// The CPU convolution algorithms, as registry objects over the kernels' entry points.
#include "core/conv_algorithm.h"
#include "core/conv_backends.h"
#include "cpu/sparse_padded_input.h"

namespace dsdk {
namespace cpu {
namespace {

class ImplicitGemm final : public ConvAlgorithm {
 public:
  dsdkStatus_t can_implement(const ConvCall& c, std::string* why) const override {
    if (c.dir == DSDK_CONV_FORWARD && c.fwd.sparse) {
      *why = "it needs the dense filter, not a packed sparse one";
      return DSDK_STATUS_NOT_SUPPORTED;
    }
    return DSDK_STATUS_SUCCESS;
  }
  size_t workspace(const ConvCall& c, const ConvExec& e) const override {
    return conv_implicit_gemm_workspace(c.dir, c.shape(), c.dtype(), e.num_threads);
  }
  dsdkStatus_t run(const ConvCall& c, void* ws, size_t bytes, const ConvExec& e,
                   std::string* msg) const override {
    if (c.dir == DSDK_CONV_FORWARD) return conv_implicit_gemm_fwd(c.fwd, ws, bytes, e.num_threads, msg);
    if (c.dir == DSDK_CONV_BACKWARD_DATA)
      return conv_implicit_gemm_bwd_data(c.bwd_data, ws, bytes, e.num_threads, msg);
    return conv_implicit_gemm_bwd_filter(c.bwd_filter, ws, bytes, e.num_threads, msg);
  }
};

// A forward-only sparse algorithm (dense or packed filter) over its kernel's entry points.
class SparseForward final : public ConvAlgorithm {
 public:
  using Fits = bool (*)(const ConvShape&, std::string*);
  using Workspace = size_t (*)(const ConvFwdArgs&, int);
  using Run = dsdkStatus_t (*)(const ConvFwdArgs&, void*, size_t, int, std::string*);
  constexpr SparseForward(Fits fits, Workspace ws, Run run) : fits_(fits), ws_(ws), run_(run) {}
  dsdkStatus_t can_implement(const ConvCall& c, std::string* why) const override {
    if (c.dir != DSDK_CONV_FORWARD) {
      *why = "it computes the forward direction only";
      return DSDK_STATUS_NOT_SUPPORTED;
    }
    return fits_(c.fwd.sh, why) ? DSDK_STATUS_SUCCESS : DSDK_STATUS_NOT_SUPPORTED;
  }
  size_t workspace(const ConvCall& c, const ConvExec& e) const override {
    return ws_(c.fwd, e.num_threads);
  }
  dsdkStatus_t run(const ConvCall& c, void* ws, size_t bytes, const ConvExec& e,
                   std::string* msg) const override {
    return run_(c.fwd, ws, bytes, e.num_threads, msg);
  }

 private:
  Fits fits_;
  Workspace ws_;
  Run run_;
};

const ImplicitGemm kImplicitGemm;
const SparseForward kDirectSparse(padded_input_fits, direct_sparse_workspace, direct_sparse_fwd);
const SparseForward kSparseTile(padded_input_fits, sparse_tile_workspace, sparse_tile_fwd);
const ConvAlgorithm* const kRegistry[] = {&kImplicitGemm, &kDirectSparse, &kSparseTile};
static_assert(sizeof(kRegistry) / sizeof(kRegistry[0]) == DSDK_CONV_ALGO_COUNT,
              "every dsdkConvAlgo_t has a CPU entry");

}  // namespace

const ConvAlgorithm* conv_algorithm(dsdkConvAlgo_t id) { return kRegistry[id]; }

}  // namespace cpu
}  // namespace dsdk
