// The convolution algorithm interface (CUTLASS's sequence: can_implement → workspace →
// run) and the per-backend registries. The C API validates a call into a ConvCall, looks
// the algorithm up in its backend's registry and runs it; adding an algorithm is adding
// an object to a registry.
#pragma once
#include <cstddef>
#include <string>

#include "core/conv_params.h"

namespace dsdk {

// What a backend needs to launch: CPU threads or the CUDA stream.
struct ConvExec {
  int num_threads;
  void* stream;
};

// One validated call; only the arguments of `dir` are meaningful.
struct ConvCall {
  dsdkConvDirection_t dir;
  ConvFwdArgs fwd;
  ConvBwdDataArgs bwd_data;
  ConvBwdFilterArgs bwd_filter;
  const ConvShape& shape() const {
    return dir == DSDK_CONV_FORWARD ? fwd.sh : dir == DSDK_CONV_BACKWARD_DATA ? bwd_data.sh
                                                                              : bwd_filter.sh;
  }
  dsdkDataType_t dtype() const {
    return dir == DSDK_CONV_FORWARD ? fwd.dtype : dir == DSDK_CONV_BACKWARD_DATA ? bwd_data.dtype
                                                                                 : bwd_filter.dtype;
  }
};

class ConvAlgorithm {
 public:
  virtual ~ConvAlgorithm() = default;
  // SUCCESS, or NOT_SUPPORTED with the reason in *why. Sees shapes and which buffers
  // are given (a packed sparse filter or a dense one), never their contents.
  virtual dsdkStatus_t can_implement(const ConvCall& c, std::string* why) const = 0;
  // Bytes of caller workspace that run needs; only asked after can_implement succeeded.
  virtual size_t workspace(const ConvCall& c, const ConvExec& e) const = 0;
  virtual dsdkStatus_t run(const ConvCall& c, void* ws, size_t ws_bytes, const ConvExec& e,
                           std::string* msg) const = 0;
};

// The registries: the algorithm `id` on that backend, nullptr where the backend has none.
namespace cpu {
const ConvAlgorithm* conv_algorithm(dsdkConvAlgo_t id);
}
namespace cuda {
const ConvAlgorithm* conv_algorithm(dsdkConvAlgo_t id);
}

}  // namespace dsdk
