// Placeholder until the SPSVM solver lands.
#include "core/svm_backends.h"

namespace dsdk {
namespace cpu {
template <typename T>
dsdkStatus_t svm_spsvm_train(const SVMParams&, int64_t, int64_t, const T*, const int32_t*, int,
                             SVMResult*, std::string* msg) {
  *msg = "the SPSVM solver is not implemented yet";
  return DSDK_STATUS_NOT_SUPPORTED;
}
template dsdkStatus_t svm_spsvm_train<float>(const SVMParams&, int64_t, int64_t, const float*,
                                             const int32_t*, int, SVMResult*, std::string*);
template dsdkStatus_t svm_spsvm_train<double>(const SVMParams&, int64_t, int64_t, const double*,
                                              const int32_t*, int, SVMResult*, std::string*);
}  // namespace cpu
}  // namespace dsdk
