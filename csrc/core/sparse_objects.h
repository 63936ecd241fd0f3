// The packed sparse filter and matrix behind dsdkSparseFilter_t / dsdkSparseMatrix_t:
// a CSR view over memory the object owns, host memory for a CPU handle, device memory
// (on the handle's device) for a CUDA handle.
#pragma once
#include <vector>

#include "core/descriptors.h"
#include "core/entry_offsets.h"
#include "core/sparse_csr.h"

namespace dsdk {
// Where a packed object's CSR lives, so that a call on another backend or device is
// refused by name instead of reading the wrong memory.
struct SparsePlace {
  dsdkBackend_t backend = DSDK_BACKEND_CPU;
  int device = 0;     // CUDA only
  void* dev = nullptr;  // CUDA only: the allocation holding the CSR
  size_t dev_bytes = 0;
};

// BAD_PARAM (naming `what`) unless an object at `place` can run on handle h.
dsdkStatus_t check_place(dsdkHandle_t h, const char* api, const char* what,
                         const SparsePlace& place);
}  // namespace dsdk

struct dsdkSparseFilterStruct {
  dsdkFilterStruct desc;
  int groups;
  std::vector<unsigned char> mem;  // CPU handle
  dsdk::CsrView csr;
  dsdk::SparsePlace place{};
  dsdk::EntryOffsets offsets;  // CPU direct convolution's, for the last input form
};

struct dsdkSparseMatrixStruct {
  std::vector<unsigned char> mem;  // CPU handle
  dsdk::CsrView csr;
  dsdk::SparsePlace place{};
};
