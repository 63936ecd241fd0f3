// Data-parallel SVM training over torch.distributed: a c10d process group as
// the SVM core's communicator (dsdkSetSVMCommunicator).
#pragma once
#include <string>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

// Sums the core's buffers over a process group with c10d all-reduce on CPU
// tensor views of them (gloo), from the thread that runs dsdkSVMTrain; that
// thread holds no GIL (the binding releases it), and gloo needs none.
class ProcessGroupCommunicator {
 public:
  // group_name: a registered group's name (torch.distributed's
  // ProcessGroup.group_name); ValueError when none has it.
  explicit ProcessGroupCommunicator(const std::string& group_name);
  // desc then trains this process's shard over the group as its rank.
  void attach(dsdkSVMDescriptor_t desc);
  // What the last failed all-reduce threw (a timeout, a peer that left);
  // empty when none failed.
  const std::string& error() const { return error_; }

 private:
  static dsdkStatus_t all_reduce(void* buffer, int64_t count, dsdkDataType_t dtype,
                                 void* self);
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  std::string error_;
};

}  // namespace dsdk_torch
