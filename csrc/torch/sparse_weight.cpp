#include "torch/sparse_weight.h"

#include <cmath>
#include <string>
#include <tuple>

#include "torch/common.h"
#include "torch/conv_common.h"

namespace dsdk_torch {

bool SparseWeight::Stamp::matches(const at::Tensor& t) const {
  return version >= 0 && !impl.expired() && impl._unsafe_get_target() == t.unsafeGetTensorImpl() &&
         !storage.expired() &&
         storage._unsafe_get_target() == t.storage().unsafeGetStorageImpl() &&
         !t.is_inference() && int64_t(t._version()) == version && t.const_data_ptr() == data &&
         t.device() == device && t.scalar_type() == dtype && t.sizes() == at::IntArrayRef(sizes) &&
         t.strides() == at::IntArrayRef(strides);
}

SparseWeight::Stamp SparseWeight::stamp_of(const at::Tensor& t) {
  Stamp s;
  s.impl = c10::weak_intrusive_ptr<c10::TensorImpl>(t.getIntrusivePtr());
  s.storage = t.storage().getWeakStorageImpl();
  s.data = t.const_data_ptr();
  s.version = t.is_inference() ? -1 : int64_t(t._version());
  s.device = t.device();
  s.dtype = t.scalar_type();
  s.sizes = t.sizes().vec();
  s.strides = t.strides().vec();
  return s;
}

void SparseWeight::refresh(const at::Tensor& weight, const at::Tensor& mask, int64_t groups) {
  if (weight_.matches(weight) && mask_.matches(mask) && groups == groups_) return;
  weight_ = stamp_of(weight);
  mask_ = stamp_of(mask);
  groups_ = groups;
  dense_ = at::Tensor();
  filter_.reset();
  matrix_.reset();
  sparsity_ = -1.0;
}

at::Tensor SparseWeight::dense(const at::Tensor& weight, const at::Tensor& mask, int64_t groups) {
  std::lock_guard<std::mutex> guard(lock_);
  refresh(weight, mask, groups);
  if (!dense_.defined()) {
    dense_ = weight * mask;
    ++builds_;
  }
  return dense_;
}

std::shared_ptr<dsdkSparseFilterStruct> SparseWeight::filter(dsdkHandle_t h,
                                                             const at::Tensor& weight,
                                                             const at::Tensor& mask,
                                                             int64_t groups) {
  std::lock_guard<std::mutex> guard(lock_);
  refresh(weight, mask, groups);
  if (filter_) return filter_;
  const char* op = "sparse_conv2d";
  const at::Tensor w = weight.contiguous(), m = mask_bytes(mask);
  Owned<dsdkFilterDescriptor_t, dsdkDestroyFilterDescriptor> wd;
  Owned<dsdkConvolutionDescriptor_t, dsdkDestroyConvolutionDescriptor> cd;
  TORCH_CHECK(dsdkCreateFilterDescriptor(&wd.p) == DSDK_STATUS_SUCCESS &&
                  dsdkCreateConvolutionDescriptor(&cd.p) == DSDK_STATUS_SUCCESS,
              "dsdkern: could not allocate dsdk descriptors");
  check_dsdk(dsdkSetFilter4dDescriptor(wd.p, dsdk_dtype(w.scalar_type()), int(w.size(0)),
                                       int(w.size(1)), int(w.size(2)), int(w.size(3))),
             h, op, "dsdkSetFilter4dDescriptor");
  // Only the group count is part of a packed filter; the rest of the geometry is per call.
  check_dsdk(dsdkSetConvolution2dDescriptor(cd.p, 0, 0, 1, 1, 1, 1, int(groups)), h, op,
             "dsdkSetConvolution2dDescriptor");
  dsdkSparseFilter_t f = nullptr;
  check_dsdk(dsdkCreateSparseFilter(h, &f, wd.p, w.const_data_ptr(), m.const_data_ptr<uint8_t>(),
                                    cd.p),
             h, op, "dsdkCreateSparseFilter");
  filter_.reset(f, dsdkDestroySparseFilter);
  ++builds_;
  return filter_;
}

std::shared_ptr<dsdkSparseMatrixStruct> SparseWeight::matrix(dsdkHandle_t h,
                                                             const at::Tensor& weight,
                                                             const at::Tensor& mask) {
  std::lock_guard<std::mutex> guard(lock_);
  refresh(weight, mask, 1);
  if (matrix_) return matrix_;
  const at::Tensor w = weight.contiguous(), m = mask_bytes(mask);
  dsdkSparseMatrix_t p = nullptr;
  check_dsdk(dsdkCreateSparseMatrix(h, &p, dsdk_dtype(w.scalar_type()), w.size(0), w.size(1),
                                    w.const_data_ptr(), m.const_data_ptr<uint8_t>()),
             h, "sparse_linear", "dsdkCreateSparseMatrix");
  matrix_.reset(p, dsdkDestroySparseMatrix);
  ++builds_;
  return matrix_;
}

double SparseWeight::sparsity(const at::Tensor& weight, const at::Tensor& mask, int64_t groups) {
  std::lock_guard<std::mutex> guard(lock_);
  refresh(weight, mask, groups);
  if (sparsity_ < 0.0)
    sparsity_ = 1.0 - double(mask.count_nonzero().item<int64_t>()) / double(mask.numel());
  return sparsity_;
}

int64_t SparseWeight::builds() const {
  std::lock_guard<std::mutex> guard(lock_);
  return builds_;
}

void register_sparse_weight_class() {
  static const bool registered = [] {
    torch::class_<SparseWeight>("dsdkern", "SparseWeight")
        .def(torch::init<>())
        .def("builds", &SparseWeight::builds)
        // A cache is equal only to itself (torch's fake-tensor dispatch cache compares args).
        .def("__eq__",
             [](const c10::intrusive_ptr<SparseWeight>& self,
                const c10::intrusive_ptr<SparseWeight>& other) {
               return self.get() == other.get();
             })
        // torch.compile fakes the object from this (dsdkern/ops.py registers the fake
        // class); the ops' fake kernels never look inside it.
        .def("__obj_flatten__",
             [](const c10::intrusive_ptr<SparseWeight>&) {
               return std::make_tuple(std::make_tuple(std::string("kind"), std::string("cache")));
             })
        .def_pickle([](const c10::intrusive_ptr<SparseWeight>&) { return int64_t(0); },
                    [](int64_t) { return c10::make_intrusive<SparseWeight>(); });
    return true;
  }();
  (void)registered;
}

}  // namespace dsdk_torch
