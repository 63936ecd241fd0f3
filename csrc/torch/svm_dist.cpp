#include "torch/svm_dist.h"

#include <torch/csrc/distributed/c10d/GroupRegistry.hpp>

#include <exception>
#include <vector>

namespace dsdk_torch {

ProcessGroupCommunicator::ProcessGroupCommunicator(const std::string& group_name) {
  try {
    group_ = c10d::resolve_process_group(group_name);
  } catch (const std::exception& e) {
    TORCH_CHECK_VALUE(false, "process group '", group_name, "' is not registered: ", e.what());
  }
}

void ProcessGroupCommunicator::attach(dsdkSVMDescriptor_t desc) {
  const dsdkStatus_t st = dsdkSetSVMCommunicator(desc, &ProcessGroupCommunicator::all_reduce,
                                                 this, group_->getRank(), group_->getSize());
  TORCH_CHECK(st == DSDK_STATUS_SUCCESS, "dsdkSetSVMCommunicator failed (",
              dsdkGetErrorString(st), ")");
}

dsdkStatus_t ProcessGroupCommunicator::all_reduce(void* buffer, int64_t count,
                                                  dsdkDataType_t dtype, void* self) {
  auto* comm = static_cast<ProcessGroupCommunicator*>(self);
  try {
    std::vector<at::Tensor> views{at::from_blob(
        buffer, {count}, at::TensorOptions().dtype(dtype == DSDK_DATA_DOUBLE ? at::kDouble
                                                                             : at::kFloat))};
    comm->group_->allreduce(views)->wait();
    return DSDK_STATUS_SUCCESS;
  } catch (const std::exception& e) {
    comm->error_ = e.what();
    return DSDK_STATUS_EXECUTION_FAILED;
  }
}

}  // namespace dsdk_torch
