// The layer-side cache of a pruned weight's prepared forms (torch custom class
// dsdkern::SparseWeight): the packed CSR of W ⊙ M (dsdkSparseFilter_t for a convolution,
// dsdkSparseMatrix_t for a linear layer) and the dense W ⊙ M that torch's kernels run on.
// A masked layer holds one and passes it, with its weight and mask, to the sparse ops; the
// ops rebuild a form only when the weight or the mask changed since it was built.
#pragma once
#include <torch/custom_class.h>
#include <torch/library.h>

#include <memory>
#include <mutex>
#include <vector>

#include "dsdkern/dsdkern.h"

namespace dsdk_torch {

class SparseWeight : public torch::CustomClassHolder {
 public:
  // Each getter first forgets every form when `weight` or `mask` is not the tensor the forms
  // were built from: another version counter value (every in-place edit through the tensor
  // or a view of it), storage, device, dtype, shape, strides or group count. An inference
  // tensor has no version counter, so its forms are rebuilt on every call. weight is KCRS
  // (conv) or [out, in] (linear), mask bool/uint8 of its shape, both on the device of h
  // (host for a CPU handle); a packed form lives there too, packed on h's stream, and a
  // weight on another device is another tensor. Thread-safe; a returned form stays valid
  // while the caller holds it.
  at::Tensor dense(const at::Tensor& weight, const at::Tensor& mask, int64_t groups);
  std::shared_ptr<dsdkSparseFilterStruct> filter(dsdkHandle_t h, const at::Tensor& weight,
                                                 const at::Tensor& mask, int64_t groups);
  std::shared_ptr<dsdkSparseMatrixStruct> matrix(dsdkHandle_t h, const at::Tensor& weight,
                                                 const at::Tensor& mask);
  // Fraction of mask entries that are pruned.
  double sparsity(const at::Tensor& weight, const at::Tensor& mask, int64_t groups);
  // How many forms have been built (packed or multiplied out) in this object's life.
  int64_t builds() const;

 private:
  // Which tensor, which storage, which contents. The weak references pin the TensorImpl and
  // StorageImpl objects' memory, so a later tensor can never reuse their addresses and pass
  // for the stamped one.
  struct Stamp {
    c10::weak_intrusive_ptr<c10::TensorImpl> impl{c10::intrusive_ptr<c10::TensorImpl>()};
    c10::weak_intrusive_ptr<c10::StorageImpl> storage{c10::intrusive_ptr<c10::StorageImpl>()};
    const void* data = nullptr;
    int64_t version = -1;  // -1: none (inference tensor), never equal to a live one
    c10::Device device{c10::kCPU};
    at::ScalarType dtype = at::kFloat;
    std::vector<int64_t> sizes, strides;
    bool matches(const at::Tensor& t) const;
  };
  static Stamp stamp_of(const at::Tensor& t);
  // Under lock_: forgets the forms unless (weight, mask, groups) is what they came from.
  void refresh(const at::Tensor& weight, const at::Tensor& mask, int64_t groups);

  mutable std::mutex lock_;
  Stamp weight_, mask_;
  int64_t groups_ = 0;
  at::Tensor dense_;
  std::shared_ptr<dsdkSparseFilterStruct> filter_;
  std::shared_ptr<dsdkSparseMatrixStruct> matrix_;
  double sparsity_ = -1.0;  // -1: not counted since the last change
  int64_t builds_ = 0;
};

// Registers the class as torch.classes.dsdkern.SparseWeight, once. Schemas naming the class and
// kernels taking it need it registered first, and static initialisers of different files run
// in no fixed order, so the TORCH_LIBRARY block (schemas.cpp) and every backend's kernels'
// block (ops_cpu.cpp, ops_cuda.cpp) call this first. Pickling and deepcopy give a new, empty
// cache: a copy rebuilds its forms from its own weight and mask and can never run on stale
// ones.
void register_sparse_weight_class();

}  // namespace dsdk_torch
