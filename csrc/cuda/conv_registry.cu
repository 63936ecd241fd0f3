// The CUDA convolution algorithms, as registry objects over the kernels' entry points.
#include "core/conv_algorithm.h"
#include "core/conv_backends.h"

namespace dsdk {
namespace cuda {
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
  size_t workspace(const ConvCall& c, const ConvExec&) const override {
    return conv_implicit_gemm_workspace(c.dir, c.shape(), c.dtype());
  }
  dsdkStatus_t run(const ConvCall& c, void* ws, size_t bytes, const ConvExec& e,
                   std::string* msg) const override {
    if (c.dir == DSDK_CONV_FORWARD) return conv_implicit_gemm_fwd(c.fwd, ws, bytes, e.stream, msg);
    if (c.dir == DSDK_CONV_BACKWARD_DATA)
      return conv_implicit_gemm_bwd_data(c.bwd_data, ws, bytes, e.stream, msg);
    return conv_implicit_gemm_bwd_filter(c.bwd_filter, ws, bytes, e.stream, msg);
  }
};

// A forward-only sparse algorithm over its three entry points.
template <bool (*Fits)(const ConvShape&, std::string*), size_t (*Workspace)(const ConvFwdArgs&),
          dsdkStatus_t (*Run)(const ConvFwdArgs&, void*, size_t, void*, std::string*)>
class SparseForward final : public ConvAlgorithm {
 public:
  dsdkStatus_t can_implement(const ConvCall& c, std::string* why) const override {
    if (c.dir != DSDK_CONV_FORWARD) {
      *why = "it computes the forward direction only";
      return DSDK_STATUS_NOT_SUPPORTED;
    }
    return Fits(c.fwd.sh, why) ? DSDK_STATUS_SUCCESS : DSDK_STATUS_NOT_SUPPORTED;
  }
  size_t workspace(const ConvCall& c, const ConvExec&) const override { return Workspace(c.fwd); }
  dsdkStatus_t run(const ConvCall& c, void* ws, size_t bytes, const ConvExec& e,
                   std::string* msg) const override {
    return Run(c.fwd, ws, bytes, e.stream, msg);
  }
};

const ImplicitGemm kImplicitGemm;
const SparseForward<direct_sparse_fits, direct_sparse_workspace, direct_sparse_fwd> kDirectSparse;
const SparseForward<sparse_tile_fits, sparse_tile_workspace, sparse_tile_fwd> kSparseTile;
const ConvAlgorithm* const kRegistry[] = {&kImplicitGemm, &kDirectSparse, &kSparseTile};
static_assert(sizeof(kRegistry) / sizeof(kRegistry[0]) == DSDK_CONV_ALGO_COUNT,
              "every dsdkConvAlgo_t has a CUDA entry");

}  // namespace

const ConvAlgorithm* conv_algorithm(dsdkConvAlgo_t id) { return kRegistry[id]; }

}  // namespace cuda
}  // namespace dsdk
