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

const ImplicitGemm kImplicitGemm;

}  // namespace

// The sparse algorithms have no CUDA kernels yet.
const ConvAlgorithm* conv_algorithm(dsdkConvAlgo_t id) {
  return id == DSDK_CONV_ALGO_IMPLICIT_GEMM ? &kImplicitGemm : nullptr;
}

}  // namespace cuda
}  // namespace dsdk
