// Python-visible helpers of the convolution area (the ops themselves are torch.ops.dsdkern.*).
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "dsdkern/dsdkern.h"
#include "torch/bindings.h"

namespace dsdk_torch {

void register_conv_bindings(pybind11::module_& m) {
  m.def(
      "conv_algorithms",
      []() {
        std::vector<std::string> names;
        for (int a = 0; a < DSDK_CONV_ALGO_COUNT; ++a)
          names.emplace_back(dsdkGetConvolutionAlgorithmName(static_cast<dsdkConvAlgo_t>(a)));
        return names;
      },
      "Names of the registered convolution algorithms, in dsdkConvAlgo_t order.");
}

}  // namespace dsdk_torch
