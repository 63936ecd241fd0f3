// The packed sparse filter and matrix behind dsdkSparseFilter_t / dsdkSparseMatrix_t:
// a CSR view over memory the object owns.
#pragma once
#include <vector>

#include "core/descriptors.h"
#include "core/sparse_csr.h"

struct dsdkSparseFilterStruct {
  dsdkFilterStruct desc;
  int groups;
  std::vector<unsigned char> mem;
  dsdk::CsrView csr;
};

struct dsdkSparseMatrixStruct {
  std::vector<unsigned char> mem;
  dsdk::CsrView csr;
};
