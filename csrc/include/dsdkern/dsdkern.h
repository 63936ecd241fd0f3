/*
 * dsdkern C API: masked convolution, masked GEMM, pruning masks and kernel SVM
 * training behind a cuDNN-style handle and descriptors.
 *
 * Conventions that hold for every call:
 *  - Every entry point returns a dsdkStatus_t. On failure the handle keeps a
 *    message that names the offending argument (dsdkGetLastErrorMessage).
 *    The library never aborts and never prints.
 *  - Data pointers live on the handle's device: host memory for a CPU handle,
 *    device memory for a CUDA handle. Descriptors and scalars (alpha, beta,
 *    perf results, model getters) are always host memory.
 *  - alpha/beta point to a host double when the data type is DSDK_DATA_DOUBLE
 *    and to a host float otherwise (as in cuDNN). beta == 0 never reads the
 *    output buffer, so it may hold garbage or NaN.
 *  - Every enum ends in a *_MAX_ENUM sentinel so that it is a 32-bit int whose
 *    valid range spans every non-negative value: the API can then reject an
 *    unknown value with BAD_PARAM instead of invoking undefined behaviour.
 *  - Workspaces are owned by the caller; size them with the matching
 *    Get...WorkspaceSize query. Compute calls do not allocate when the
 *    workspace they need was passed.
 */
#ifndef DSDKERN_DSDKERN_H
#define DSDKERN_DSDKERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DSDK_VERSION_MAJOR 0
#define DSDK_VERSION_MINOR 1

typedef enum {
  DSDK_STATUS_SUCCESS = 0,
  DSDK_STATUS_NOT_INITIALIZED = 1,
  DSDK_STATUS_ALLOC_FAILED = 2,
  DSDK_STATUS_BAD_PARAM = 3,
  DSDK_STATUS_INTERNAL_ERROR = 4,
  DSDK_STATUS_ARCH_MISMATCH = 5,
  DSDK_STATUS_EXECUTION_FAILED = 6,
  DSDK_STATUS_NOT_SUPPORTED = 7,
  DSDK_STATUS_MAX_ENUM = 0x7fffffff
} dsdkStatus_t;

typedef enum {
  DSDK_BACKEND_CPU = 0,
  DSDK_BACKEND_CUDA = 1,
  DSDK_BACKEND_MAX_ENUM = 0x7fffffff
} dsdkBackend_t;

typedef enum {
  DSDK_DATA_FLOAT = 0,
  DSDK_DATA_DOUBLE = 1,
  DSDK_DATA_HALF = 2,
  DSDK_DATA_BFLOAT16 = 3,
  DSDK_DATA_MAX_ENUM = 0x7fffffff
} dsdkDataType_t;

typedef struct dsdkContext* dsdkHandle_t;

/* ---- handle ------------------------------------------------------------ */

/* A CPU handle runs kernels on dsdkGetNumThreads() OpenMP threads (default:
 * omp_get_max_threads()). A CUDA handle binds the current device at creation
 * and launches on its stream (default: the legacy default stream); its thread
 * count is for the host's share of the work (SPSVM's Newton solves).
 * Creating a CUDA handle in a build without CUDA returns NOT_SUPPORTED. */
dsdkStatus_t dsdkCreate(dsdkHandle_t* handle, dsdkBackend_t backend);
dsdkStatus_t dsdkDestroy(dsdkHandle_t handle);
dsdkStatus_t dsdkGetBackend(dsdkHandle_t handle, dsdkBackend_t* backend);
dsdkStatus_t dsdkSetNumThreads(dsdkHandle_t handle, int numThreads); /* >= 1 */
dsdkStatus_t dsdkGetNumThreads(dsdkHandle_t handle, int* numThreads);
dsdkStatus_t dsdkSetStream(dsdkHandle_t handle, void* cudaStream);  /* CUDA only */
dsdkStatus_t dsdkGetStream(dsdkHandle_t handle, void** cudaStream);
const char* dsdkGetErrorString(dsdkStatus_t status);
/* The message of the last failed call on this handle ("" after success). */
const char* dsdkGetLastErrorMessage(dsdkHandle_t handle);
/* 1 when the library was built with its CUDA backend. */
int dsdkHasCudaBackend(void);

/* ---- tensor / filter / convolution descriptors ------------------------- */

typedef struct dsdkTensorStruct* dsdkTensorDescriptor_t;
typedef struct dsdkFilterStruct* dsdkFilterDescriptor_t;
typedef struct dsdkConvolutionStruct* dsdkConvolutionDescriptor_t;

/* 4-D activation tensor in NCHW index order with arbitrary element strides
 * (NCHW-packed, channels_last and sliced views are all expressible).
 * n may be 0 (empty batch); c, h, w >= 1; strides >= 0. */
dsdkStatus_t dsdkCreateTensorDescriptor(dsdkTensorDescriptor_t* desc);
dsdkStatus_t dsdkDestroyTensorDescriptor(dsdkTensorDescriptor_t desc);
dsdkStatus_t dsdkSetTensor4dDescriptorEx(dsdkTensorDescriptor_t desc, dsdkDataType_t dtype,
                                         int n, int c, int h, int w,
                                         int64_t nStride, int64_t cStride,
                                         int64_t hStride, int64_t wStride);
/* Packed NCHW strides. */
dsdkStatus_t dsdkSetTensor4dDescriptor(dsdkTensorDescriptor_t desc, dsdkDataType_t dtype,
                                       int n, int c, int h, int w);
dsdkStatus_t dsdkGetTensor4dDescriptor(dsdkTensorDescriptor_t desc, dsdkDataType_t* dtype,
                                       int* n, int* c, int* h, int* w,
                                       int64_t* nStride, int64_t* cStride,
                                       int64_t* hStride, int64_t* wStride);

/* Filter of k output channels, c input channels per group, r x s taps,
 * packed KCRS. A mask, where a call takes one, is a uint8 array of the same
 * shape and layout (0 = pruned, non-zero = kept). */
dsdkStatus_t dsdkCreateFilterDescriptor(dsdkFilterDescriptor_t* desc);
dsdkStatus_t dsdkDestroyFilterDescriptor(dsdkFilterDescriptor_t desc);
dsdkStatus_t dsdkSetFilter4dDescriptor(dsdkFilterDescriptor_t desc, dsdkDataType_t dtype,
                                       int k, int c, int r, int s);
dsdkStatus_t dsdkGetFilter4dDescriptor(dsdkFilterDescriptor_t desc, dsdkDataType_t* dtype,
                                       int* k, int* c, int* r, int* s);

/* Cross-correlation (what deep-learning frameworks call convolution).
 * pad >= 0, stride >= 1, dilation >= 1, groups >= 1. */
dsdkStatus_t dsdkCreateConvolutionDescriptor(dsdkConvolutionDescriptor_t* desc);
dsdkStatus_t dsdkDestroyConvolutionDescriptor(dsdkConvolutionDescriptor_t desc);
dsdkStatus_t dsdkSetConvolution2dDescriptor(dsdkConvolutionDescriptor_t desc,
                                            int padH, int padW, int strideH, int strideW,
                                            int dilationH, int dilationW, int groups);
dsdkStatus_t dsdkGetConvolution2dDescriptor(dsdkConvolutionDescriptor_t desc,
                                            int* padH, int* padW, int* strideH, int* strideW,
                                            int* dilationH, int* dilationW, int* groups);
/* Output shape of conv(x, w); BAD_PARAM when the shapes do not fit together
 * or the output would be empty. */
dsdkStatus_t dsdkGetConvolution2dForwardOutputDim(dsdkHandle_t handle,
                                                  dsdkConvolutionDescriptor_t convDesc,
                                                  dsdkTensorDescriptor_t xDesc,
                                                  dsdkFilterDescriptor_t wDesc,
                                                  int* n, int* c, int* h, int* w);

/* ---- algorithms -------------------------------------------------------- */

/* One id space for the three directions. New algorithms (sparse ones) append
 * here; DSDK_CONV_ALGO_COUNT is the size of the registry. */
typedef enum {
  DSDK_CONV_ALGO_IMPLICIT_GEMM = 0, /* mask applied while packing weight tiles */
  DSDK_CONV_ALGO_DIRECT_SPARSE = 1, /* CSR of W ⊙ M per output channel (Park et al. 2017);
                                       forward only. Through the masked call it packs
                                       W ⊙ M into the workspace on every call (the
                                       workspace covers a fully dense CSR); pack once with
                                       dsdkCreateSparseFilter to run many times. */
  DSDK_CONV_ALGO_SPARSE_TILE = 2,   /* CSR of W ⊙ M over the lowered c·r·s axis times dense
                                       lowered-input tiles built per tile in the workspace
                                       (im2col-tile); for deep layers with many output
                                       channels. Forward only; packs like
                                       DIRECT_SPARSE through the masked call. */
  DSDK_CONV_ALGO_COUNT,
  DSDK_CONV_ALGO_MAX_ENUM = 0x7fffffff
} dsdkConvAlgo_t;

typedef enum {
  DSDK_CONV_FORWARD = 0,
  DSDK_CONV_BACKWARD_DATA = 1,
  DSDK_CONV_BACKWARD_FILTER = 2,
  DSDK_CONV_DIRECTION_MAX_ENUM = 0x7fffffff
} dsdkConvDirection_t;

typedef struct {
  dsdkConvAlgo_t algo;
  dsdkStatus_t status; /* SUCCESS, or why the algorithm could not run */
  float time;          /* milliseconds, median of the timed runs */
  size_t memory;       /* workspace bytes */
} dsdkConvAlgoPerf_t;

dsdkStatus_t dsdkGetConvolutionAlgorithmMaxCount(dsdkHandle_t handle, int* count);
const char* dsdkGetConvolutionAlgorithmName(dsdkConvAlgo_t algo);

/* Workspace bytes that `algo` needs for `direction` with these descriptors.
 * The descriptors are those of the forward problem in every direction
 * (x, w, y), so dx/dw/dy share them. NOT_SUPPORTED when the algorithm cannot
 * handle the problem on this handle's backend. */
dsdkStatus_t dsdkGetConvolutionWorkspaceSize(dsdkHandle_t handle, dsdkConvDirection_t direction,
                                             dsdkTensorDescriptor_t xDesc,
                                             dsdkFilterDescriptor_t wDesc,
                                             dsdkConvolutionDescriptor_t convDesc,
                                             dsdkTensorDescriptor_t yDesc,
                                             dsdkConvAlgo_t algo, size_t* sizeInBytes);

/* Measured Find: runs every registered algorithm on the caller's buffers and
 * returns up to `requestedCount` results, the ones that ran sorted fastest
 * first, the ones that could not run after them with their status.
 * x, w, mask, y are the forward problem's buffers (for BACKWARD_DATA, y holds
 * dy and x receives dx; for BACKWARD_FILTER, y holds dy and w receives dw);
 * the output buffer's contents are overwritten. The workspace must be at
 * least the largest size any algorithm reports; an algorithm whose need
 * exceeds workspaceSizeInBytes reports ALLOC_FAILED. */
dsdkStatus_t dsdkFindConvolutionAlgorithm(dsdkHandle_t handle, dsdkConvDirection_t direction,
                                          dsdkTensorDescriptor_t xDesc, void* x,
                                          dsdkFilterDescriptor_t wDesc, void* w,
                                          const uint8_t* mask,
                                          dsdkConvolutionDescriptor_t convDesc,
                                          dsdkTensorDescriptor_t yDesc, void* y,
                                          int requestedCount, int* returnedCount,
                                          dsdkConvAlgoPerf_t* perfResults,
                                          void* workspace, size_t workspaceSizeInBytes);

/* ---- masked convolution ------------------------------------------------ */

/* y = alpha * conv(x, w ⊙ mask) + beta * y.
 * x: [n, c, h, w] (xDesc strides), w/mask: packed KCRS of wDesc, y: yDesc.
 * mask may be NULL (dense). x, w, y must share the data type. */
dsdkStatus_t dsdkMaskedConvolutionForward(dsdkHandle_t handle, const void* alpha,
                                          dsdkTensorDescriptor_t xDesc, const void* x,
                                          dsdkFilterDescriptor_t wDesc, const void* w,
                                          const uint8_t* mask,
                                          dsdkConvolutionDescriptor_t convDesc,
                                          dsdkConvAlgo_t algo, void* workspace,
                                          size_t workspaceSizeInBytes, const void* beta,
                                          dsdkTensorDescriptor_t yDesc, void* y);

/* y = alpha * conv(x, w ⊙ mask) + beta * y + bias[k], bias added per output
 * channel k in each algorithm's own store (cuDNN's
 * cudnnConvolutionBiasActivationForward without the activation). Arguments as
 * for dsdkMaskedConvolutionForward, plus bias: wDesc's k elements of y's data
 * type, contiguous, on the handle's device (host for a CPU handle, device
 * memory for a CUDA one, like x, w, mask and y; CUDA: the 16-bit types add it
 * in float before rounding). bias NULL: no bias, the same call as
 * dsdkMaskedConvolutionForward. The workspace is that of the call without
 * bias. */
dsdkStatus_t dsdkMaskedConvolutionBiasForward(dsdkHandle_t handle, const void* alpha,
                                              dsdkTensorDescriptor_t xDesc, const void* x,
                                              dsdkFilterDescriptor_t wDesc, const void* w,
                                              const uint8_t* mask,
                                              dsdkConvolutionDescriptor_t convDesc,
                                              dsdkConvAlgo_t algo, void* workspace,
                                              size_t workspaceSizeInBytes, const void* beta,
                                              const void* bias, dsdkTensorDescriptor_t yDesc,
                                              void* y);

/* dx = alpha * conv_transpose(dy, w ⊙ mask) + beta * dx. */
dsdkStatus_t dsdkMaskedConvolutionBackwardData(dsdkHandle_t handle, const void* alpha,
                                               dsdkFilterDescriptor_t wDesc, const void* w,
                                               const uint8_t* mask,
                                               dsdkTensorDescriptor_t dyDesc, const void* dy,
                                               dsdkConvolutionDescriptor_t convDesc,
                                               dsdkConvAlgo_t algo, void* workspace,
                                               size_t workspaceSizeInBytes, const void* beta,
                                               dsdkTensorDescriptor_t dxDesc, void* dx);

/* dw = alpha * ((x ⋆ dy) ⊙ mask) + beta * dw; dw is packed KCRS of dwDesc.
 * mask may be NULL (dense gradient). */
dsdkStatus_t dsdkMaskedConvolutionBackwardFilter(dsdkHandle_t handle, const void* alpha,
                                                 dsdkTensorDescriptor_t xDesc, const void* x,
                                                 dsdkTensorDescriptor_t dyDesc, const void* dy,
                                                 dsdkConvolutionDescriptor_t convDesc,
                                                 dsdkConvAlgo_t algo, void* workspace,
                                                 size_t workspaceSizeInBytes, const void* beta,
                                                 dsdkFilterDescriptor_t dwDesc, void* dw,
                                                 const uint8_t* mask);

/* ---- masked GEMM ------------------------------------------------------- */

typedef enum {
  DSDK_OP_N = 0, /* the matrix as stored */
  DSDK_OP_T = 1, /* its transpose */
  DSDK_OP_MAX_ENUM = 0x7fffffff
} dsdkOperation_t;

/* C = alpha * (op(A) * op(B ⊙ maskB)) ⊙ maskC + beta * C, every matrix row-major
 * with a leading dimension in elements: op(A) is m x k, op(B) is k x n, C is m x n.
 * A is stored m x k (transA = N, lda >= max(1, k)) or k x m (T, lda >= max(1, m));
 * B is stored k x n (transB = N, ldb >= max(1, n)) or n x k (T, ldb >= max(1, k));
 * ldc >= max(1, n). maskB is a uint8 array laid out like B (same ldb; 0 = pruned,
 * non-zero = kept), maskC one laid out like C (ldc): where it is 0 the product is
 * dropped and C becomes beta * C. Either mask may be NULL (none). m, n, k >= 0; k = 0
 * gives C = beta * C. A, B, C, the masks and the workspace live on the handle's
 * device; alpha/beta are host scalars (see the conventions above).
 * Data types: CPU FLOAT, DOUBLE; CUDA FLOAT, DOUBLE, HALF, BFLOAT16 (float
 * accumulation for the 16-bit types). The workspace must hold at least the bytes
 * dsdkGetMaskedGemmWorkspaceSize reports for the same dtype, m, n, k on this handle
 * (with its current thread count); workspace may be NULL when that is 0. */
dsdkStatus_t dsdkGetMaskedGemmWorkspaceSize(dsdkHandle_t handle, dsdkDataType_t dtype,
                                            int64_t m, int64_t n, int64_t k,
                                            size_t* sizeInBytes);
dsdkStatus_t dsdkMaskedGemm(dsdkHandle_t handle, dsdkDataType_t dtype, dsdkOperation_t transA,
                            dsdkOperation_t transB, int64_t m, int64_t n, int64_t k,
                            const void* alpha, const void* A, int64_t lda, const void* B,
                            int64_t ldb, const uint8_t* maskB, const void* beta, void* C,
                            int64_t ldc, const uint8_t* maskC, void* workspace,
                            size_t workspaceSizeInBytes);

/* ---- max pooling ------------------------------------------------------- */

/* Max pooling as torch's MaxPool2d defines it: windowH x windowW taps spaced by
 * the dilation, windows stepped by the stride over the input padded with -inf
 * (window >= 1, pad >= 0, stride >= 1, dilation >= 1, ceilMode 0 or 1). With
 * ceilMode the output size rounds up, but a last window that would start in
 * the right/bottom padding is dropped. */
typedef struct dsdkPoolingStruct* dsdkPoolingDescriptor_t;

dsdkStatus_t dsdkCreatePoolingDescriptor(dsdkPoolingDescriptor_t* desc);
dsdkStatus_t dsdkDestroyPoolingDescriptor(dsdkPoolingDescriptor_t desc);
dsdkStatus_t dsdkSetPooling2dDescriptor(dsdkPoolingDescriptor_t desc, int windowH, int windowW,
                                        int padH, int padW, int strideH, int strideW,
                                        int dilationH, int dilationW, int ceilMode);
dsdkStatus_t dsdkGetPooling2dDescriptor(dsdkPoolingDescriptor_t desc, int* windowH,
                                        int* windowW, int* padH, int* padW, int* strideH,
                                        int* strideW, int* dilationH, int* dilationW,
                                        int* ceilMode);

/* Output shape of pooling xDesc; BAD_PARAM (naming the argument) when a pad
 * exceeds half its window, as torch requires, or the output would be empty. */
dsdkStatus_t dsdkGetPooling2dForwardOutputDim(dsdkHandle_t handle,
                                              dsdkPoolingDescriptor_t poolDesc,
                                              dsdkTensorDescriptor_t xDesc, int* n, int* c,
                                              int* h, int* w);

/* y[n, c, i, j] = max of x[n, c] over window (i, j); a window holding a NaN
 * gives NaN, one that covers only padding gives -inf. x: xDesc, y: yDesc (any
 * strides; the shape dsdkGetPooling2dForwardOutputDim gives), host memory;
 * x and y share the data type, FLOAT or DOUBLE, and must not overlap. y is
 * overwritten. CPU only: a CUDA handle gets NOT_SUPPORTED (cuDNN's pooling is
 * fast there). Runs on the handle's threads, one (image, channel) plane per
 * task, with one row buffer per thread (a few KB, allocated by the call); the
 * fast path is unit stride along w in x. */
dsdkStatus_t dsdkMaxPoolingForward(dsdkHandle_t handle, dsdkPoolingDescriptor_t poolDesc,
                                   dsdkTensorDescriptor_t xDesc, const void* x,
                                   dsdkTensorDescriptor_t yDesc, void* y);

/* ---- pruning masks ----------------------------------------------------- */

typedef enum {
  DSDK_MASK_TOPK = 0,      /* keep the `keep` entries of largest |w| */
  DSDK_MASK_THRESHOLD = 1, /* keep the entries with |w| >= threshold */
  DSDK_MASK_MODE_MAX_ENUM = 0x7fffffff
} dsdkMaskMode_t;

/* Workspace bytes dsdkMagnitudeMask needs for n values of dtype in `mode`
 * (the same for every thread count). */
dsdkStatus_t dsdkGetMagnitudeMaskWorkspaceSize(dsdkHandle_t handle, dsdkMaskMode_t mode,
                                               dsdkDataType_t dtype, int64_t n,
                                               size_t* sizeInBytes);

/* mask[i] = 1 where w[i] is kept, 0 where it is pruned, for i < n.
 * w: n values of dtype (CPU: FLOAT or DOUBLE; CUDA: FLOAT, DOUBLE, HALF,
 * BFLOAT16), mask: n uint8, workspace: workspaceSizeInBytes bytes, all on the
 * handle's device (may be NULL when n == 0 or the workspace size is 0).
 * TOPK keeps exactly `keep` entries (0 <= keep <= n) of largest |w|; among
 * equal |w| the lower index wins, so the mask is one function of w: the same
 * for every thread count and on CPU and CUDA. -0.0 and +0.0 tie; infinities
 * are the largest. `threshold` is ignored.
 * THRESHOLD keeps |w| >= threshold (threshold >= 0, compared in double;
 * +infinity keeps only infinite entries). `keep` is ignored.
 * BAD_PARAM names the argument at fault: keep outside [0, n], a negative or
 * NaN threshold, or a NaN in w (the message gives the first NaN's index). When
 * the call fails the contents of mask are unspecified.
 * A CUDA handle's call runs on its stream and waits for it (the NaN check
 * needs the answer on the host). */
dsdkStatus_t dsdkMagnitudeMask(dsdkHandle_t handle, dsdkMaskMode_t mode, dsdkDataType_t dtype,
                               int64_t n, const void* w, int64_t keep, double threshold,
                               void* workspace, size_t workspaceSizeInBytes, uint8_t* mask);

/* ---- sparse execution: packed sparse filters and matrices -------------- */

/* Prepare once, run many. W ⊙ M is packed once into compressed sparse rows
 * (one row per output channel or output feature, 16-bit column indices where
 * they fit) and then used by every call. An object lives where its handle
 * computes: packed on a CPU handle it holds host memory, packed on a CUDA
 * handle it holds device memory of the handle's device (it is packed there,
 * on the handle's stream), and it runs only on handles of that backend and
 * device (BAD_PARAM otherwise). On CUDA, DSDK_CONV_ALGO_DIRECT_SPARSE and
 * DSDK_CONV_ALGO_SPARSE_TILE run forward in all four data types (float
 * accumulation for the 16-bit ones). The objects do not depend on the input's size,
 * batch or layout. The sequence is CUTLASS's: create (can the data be packed),
 * query the workspace size, run. */
typedef struct dsdkSparseFilterStruct* dsdkSparseFilter_t;
typedef struct dsdkSparseMatrixStruct* dsdkSparseMatrix_t;

/* Packs w ⊙ mask: w and mask are arrays on the handle's device (host for a
 * CPU handle, device memory for a CUDA one) in the packed KCRS layout of wDesc
 * (CPU: FLOAT or DOUBLE; CUDA: also HALF and BFLOAT16), mask may be NULL
 * (every weight kept). On a CUDA handle the call synchronises the handle's
 * stream once (the kept count sizes the allocation). convDesc's
 * groups must divide wDesc's k; the filter then runs only with that group
 * count. A kept weight that is 0.0 stays an entry. */
dsdkStatus_t dsdkCreateSparseFilter(dsdkHandle_t handle, dsdkSparseFilter_t* filter,
                                    dsdkFilterDescriptor_t wDesc, const void* w,
                                    const uint8_t* mask, dsdkConvolutionDescriptor_t convDesc);
/* Kept entries and the bytes the packed filter holds (host bytes for a CPU
 * handle's object, device bytes for a CUDA handle's). A CPU filter that has
 * run DSDK_CONV_ALGO_DIRECT_SPARSE also keeps 4 bytes per kept entry (each
 * entry's input offset for the last input size and geometry it ran on),
 * not counted here; calls on several threads may share a filter. */
dsdkStatus_t dsdkGetSparseFilterInfo(dsdkSparseFilter_t filter, int64_t* nnz, size_t* bytes);
dsdkStatus_t dsdkDestroySparseFilter(dsdkSparseFilter_t filter);

/* Workspace bytes of dsdkSparseConvolutionForward with these descriptors;
 * NOT_SUPPORTED when `algo` cannot run from a packed filter (the dense
 * implicit GEMM cannot). */
dsdkStatus_t dsdkGetSparseConvolutionForwardWorkspaceSize(dsdkHandle_t handle,
                                                          dsdkTensorDescriptor_t xDesc,
                                                          dsdkSparseFilter_t filter,
                                                          dsdkConvolutionDescriptor_t convDesc,
                                                          dsdkTensorDescriptor_t yDesc,
                                                          dsdkConvAlgo_t algo,
                                                          size_t* sizeInBytes);
/* y = alpha * conv(x, W ⊙ M) + beta * y with the packed filter; x: [n, c, h, w]
 * (xDesc strides), y: yDesc, both of the filter's data type on the handle's
 * device (host for CPU, device memory for CUDA, as is the workspace). */
dsdkStatus_t dsdkSparseConvolutionForward(dsdkHandle_t handle, const void* alpha,
                                          dsdkTensorDescriptor_t xDesc, const void* x,
                                          dsdkSparseFilter_t filter,
                                          dsdkConvolutionDescriptor_t convDesc,
                                          dsdkConvAlgo_t algo, void* workspace,
                                          size_t workspaceSizeInBytes, const void* beta,
                                          dsdkTensorDescriptor_t yDesc, void* y);
/* y = alpha * conv(x, W ⊙ M) + beta * y + bias[k] with the packed filter, the
 * bias added per output channel k in the algorithm's store. Arguments as for
 * dsdkSparseConvolutionForward, plus bias: the filter's k elements of its data
 * type, contiguous, on the handle's device (host for CPU, device memory for
 * CUDA; the 16-bit types add it in float before rounding), or NULL (no bias:
 * the same call as dsdkSparseConvolutionForward). Workspace as without bias. */
dsdkStatus_t dsdkSparseConvolutionBiasForward(dsdkHandle_t handle, const void* alpha,
                                              dsdkTensorDescriptor_t xDesc, const void* x,
                                              dsdkSparseFilter_t filter,
                                              dsdkConvolutionDescriptor_t convDesc,
                                              dsdkConvAlgo_t algo, void* workspace,
                                              size_t workspaceSizeInBytes, const void* beta,
                                              const void* bias, dsdkTensorDescriptor_t yDesc,
                                              void* y);

/* Packs W ⊙ mask for a linear layer: W is rows x cols row-major (rows = output
 * features, cols = input features, >= 1 each) on the handle's device (host for
 * CPU: FLOAT or DOUBLE; device memory for CUDA: also HALF and BFLOAT16); mask
 * the same shape (uint8) and place, or NULL (every weight kept). Bytes as for
 * dsdkGetSparseFilterInfo. */
dsdkStatus_t dsdkCreateSparseMatrix(dsdkHandle_t handle, dsdkSparseMatrix_t* matrix,
                                    dsdkDataType_t dtype, int64_t rows, int64_t cols,
                                    const void* W, const uint8_t* mask);
dsdkStatus_t dsdkGetSparseMatrixInfo(dsdkSparseMatrix_t matrix, int64_t* nnz, size_t* bytes);
dsdkStatus_t dsdkDestroySparseMatrix(dsdkSparseMatrix_t matrix);

/* Workspace bytes of dsdkSparseGemm for a batch of m rows (0 on CUDA). */
dsdkStatus_t dsdkGetSparseGemmWorkspaceSize(dsdkHandle_t handle, dsdkSparseMatrix_t matrix,
                                            int64_t m, size_t* sizeInBytes);
/* Y = alpha * X · (W ⊙ M)^T + beta * Y. X: m x cols row-major with leading
 * dimension ldx >= cols; Y: m x rows row-major with ldy >= rows; of the
 * matrix's data type on the handle's device (CUDA: float accumulation for the
 * 16-bit types; alpha/beta host scalars as everywhere). m may be 0. */
dsdkStatus_t dsdkSparseGemm(dsdkHandle_t handle, const void* alpha, int64_t m, const void* X,
                            int64_t ldx, dsdkSparseMatrix_t matrix, void* workspace,
                            size_t workspaceSizeInBytes, const void* beta, void* Y, int64_t ldy);

/* ---- kernel SVM -------------------------------------------------------- */

typedef enum {
  DSDK_SVM_KERNEL_LINEAR = 0,  /* <x, z> */
  DSDK_SVM_KERNEL_POLY = 1,    /* (gamma <x, z> + coef0)^degree */
  DSDK_SVM_KERNEL_RBF = 2,     /* exp(-gamma |x - z|^2) */
  DSDK_SVM_KERNEL_SIGMOID = 3,  /* tanh(gamma <x, z> + coef0) */
  DSDK_SVM_KERNEL_MAX_ENUM = 0x7fffffff
} dsdkSVMKernel_t;

typedef enum {
  DSDK_SVM_SOLVER_SMO = 0,   /* exact dual, parallel SMO with WSS3 */
  DSDK_SVM_SOLVER_SPSVM = 1,  /* approximate sparse primal (Keerthi et al. 2006) */
  DSDK_SVM_SOLVER_MAX_ENUM = 0x7fffffff
} dsdkSVMSolver_t;

typedef struct dsdkSVMStruct* dsdkSVMDescriptor_t;
typedef struct dsdkSVMModelStruct* dsdkSVMModel_t;

/* The setters store the values as given (they have no handle to carry a
 * message); dsdkSVMTrain and dsdkSVMKernelMatrix check the ones they use and
 * return BAD_PARAM with a message naming the bad one. */
dsdkStatus_t dsdkCreateSVMDescriptor(dsdkSVMDescriptor_t* desc);
dsdkStatus_t dsdkDestroySVMDescriptor(dsdkSVMDescriptor_t desc);
/* C > 0; gamma > 0 (ignored by LINEAR); degree >= 1 (POLY); tol > 0;
 * maxIter: outer iterations (SMO working-set rounds, where a set holding
 * all n variables is solved to tol in one round; SPSVM basis-growth
 * rounds), -1 = no limit; cacheBytes: SMO kernel-row cache (the rows of the
 * working set are held even when they exceed it). */
dsdkStatus_t dsdkSetSVMDescriptor(dsdkSVMDescriptor_t desc, dsdkSVMKernel_t kernel, double C,
                                  double gamma, double coef0, int degree, double tol,
                                  int64_t maxIter, size_t cacheBytes);
/* Per-class multipliers of C for the +1 and -1 class (LIBSVM's weight). > 0. */
dsdkStatus_t dsdkSetSVMClassWeights(dsdkSVMDescriptor_t desc, double weightPositive,
                                    double weightNegative);
/* Per-row multipliers of C (LIBSVM's instance weights): row i's C is
 * C * class weight * weights[i]. weights: n host doubles, each finite and > 0
 * (drop zero-weight rows before training, as LIBSVM does); copied. n must be
 * the training call's n; n = 0 or weights = NULL clears them. The CUDA backend
 * takes them for SMO and returns NOT_SUPPORTED for SPSVM while they are set. */
dsdkStatus_t dsdkSetSVMSampleWeights(dsdkSVMDescriptor_t desc, int64_t n, const double* weights);
/* SMO working-set size q (even, >= 2; 0 = automatic); SPSVM maximum basis
 * size (>= 1; 0 = automatic), candidate batch size (0 = automatic) and seed. */
dsdkStatus_t dsdkSetSVMSolverOptions(dsdkSVMDescriptor_t desc, int workingSetSize,
                                     int maxBasis, int candidates, uint64_t seed);

/* Binary training. X: n x d row-major of dtype (CPU: FLOAT or DOUBLE; CUDA:
 * FLOAT), y: n int32 labels in {+1, -1} on the handle's device. Kernel
 * values are computed in float for FLOAT input, and for DOUBLE input too
 * (LIBSVM also caches them in float) except SMO with tol < 1e-4, which keeps
 * double kernel rows; dual variables, gradients, Newton systems, bias and
 * objective are double. The model is created by the call and owned by the caller
 * (dsdkDestroySVMModel).
 * Running out of maxIter is not an error; the model says so. */
dsdkStatus_t dsdkSVMTrain(dsdkHandle_t handle, dsdkSVMDescriptor_t desc, dsdkSVMSolver_t solver,
                          dsdkDataType_t dtype, int64_t n, int64_t d, const void* X,
                          const int32_t* y, dsdkSVMModel_t* model);
/* LIBSVM's one-vs-one multi-class training in one call: for every pair of
 * classes (i, j), i < j, in the order (0,1), (0,2), ..., (0,k-1), (1,2), ...,
 * a binary model on the rows of classes i and j with class i as +1. X: n x d
 * row-major of dtype (FLOAT or DOUBLE), labels: n int32 class codes in
 * [0, numClasses), numClasses >= 2 and every class present; classWeights:
 * numClasses multipliers of C (> 0), or NULL for ones; the descriptor's sample
 * weights (if set) hold one per row of X; pair p's seed is the descriptor's
 * seed + p. All host memory: CPU backend only. models: numClasses *
 * (numClasses - 1) / 2 outputs, each owned by the caller; a model's support
 * indices are rows of X, and its decision function takes X with this n.
 * Pairs below a few thousand rows train side by side, one thread each; larger
 * ones one after another on all the handle's threads. On failure no model is
 * returned (all outputs are NULL). */
dsdkStatus_t dsdkSVMTrainOneVsOne(dsdkHandle_t handle, dsdkSVMDescriptor_t desc,
                                  dsdkSVMSolver_t solver, dsdkDataType_t dtype, int64_t n,
                                  int64_t d, const void* X, const int32_t* labels, int numClasses,
                                  const double* classWeights, dsdkSVMModel_t* models);
dsdkStatus_t dsdkDestroySVMModel(dsdkSVMModel_t model);
/* The model is f(x) = sum_j coef[j] * K(x, X[index[j]]) + bias. For SMO,
 * coef = y_i * alpha_i over the support vectors; for SPSVM, the basis
 * weights. objective is the dual objective (SMO, LIBSVM's sign: minimised)
 * or the primal objective (SPSVM). */
typedef struct {
  int64_t nSupport;
  double bias;
  double objective;
  int64_t iterations;
  int converged; /* 0 when maxIter stopped the solver */
} dsdkSVMModelInfo_t;
dsdkStatus_t dsdkSVMModelGetInfo(dsdkSVMModel_t model, dsdkSVMModelInfo_t* info);
/* index: nSupport int64 (host), sorted ascending; coef: nSupport doubles (host). */
dsdkStatus_t dsdkSVMModelGetSupport(dsdkSVMModel_t model, int64_t* index, double* coef);

/* Decision values of a trained binary model: out[i] = sum_j coef[j] *
 * K(Z[i], X[index[j]]) + bias for i < m, with the model's own kernel (as set
 * when it was trained). X is the n x d training data the model was trained on
 * (the model keeps indices into it, not copies of the support vectors): n and
 * d must be the training call's. Z is m x d; X, Z and out are on the handle's
 * device, all of dtype (CPU: FLOAT or DOUBLE; CUDA: FLOAT). The sign of out
 * is the predicted label. */
dsdkStatus_t dsdkSVMDecisionFunction(dsdkHandle_t handle, dsdkSVMModel_t model,
                                     dsdkDataType_t dtype, int64_t n, int64_t d, const void* X,
                                     int64_t m, const void* Z, void* out);
/* LIBSVM's one-vs-one prediction of a k-class model in one call, CPU backend
 * only (all host memory). SV: nSV x d row-major support vectors of dtype (FLOAT
 * or DOUBLE), grouped by class: nSupport[c] >= 0 rows of class c, in class
 * order, nSV their sum (0 allowed: SV may then be NULL). dualCoef: (k - 1) x nSV
 * doubles in LIBSVM's layout (a vector of class c keeps its coefficient for the
 * pair (c, o) in row o if o < c, else in row o - 1); intercept: k (k - 1) / 2
 * doubles. For each of the m rows of Z (m x d, dtype) and each pair p = (i, j),
 * i < j, in the order (0,1), (0,2), ..., (1,2), ...:
 * f_p = sum over the SVs s of classes i and j of coef(s, p) K(Z, s) + intercept[p],
 * which votes for i when f_p > 0, else for j. decision (m x k (k - 1) / 2
 * doubles, or NULL) receives f; winner (m int32, or NULL) the class with the
 * most votes, the lowest index among ties. The kernel is the descriptor's. */
dsdkStatus_t dsdkSVMPredictOneVsOne(dsdkHandle_t handle, dsdkSVMDescriptor_t desc,
                                    dsdkDataType_t dtype, int numClasses,
                                    const int64_t* nSupport, int64_t d, const void* SV,
                                    const double* dualCoef, const double* intercept, int64_t m,
                                    const void* Z, double* decision, int32_t* winner);
/* K[i, j] = kernel(X[i], Z[j]) for X: n x d and Z: m x d row-major; K: n x m
 * row-major; all of dtype on the handle's device. Used for prediction. */
dsdkStatus_t dsdkSVMKernelMatrix(dsdkHandle_t handle, dsdkSVMDescriptor_t desc,
                                 dsdkDataType_t dtype, int64_t n, int64_t m, int64_t d,
                                 const void* X, const void* Z, void* K);

/* ---- kernel SVM: data-parallel training (communicator) ------------------
 * SPSVM can train on rows spread over several processes (ranks). Each rank
 * calls dsdkSVMTrain with its own shard of the rows (X: nLocal x d, y: nLocal)
 * and a descriptor holding the same settings and a communicator; the kernel
 * columns of the shard are computed locally and every sum over the rows (the
 * Newton system, gradients, candidate scores, the objective) is summed over
 * the ranks by the communicator. Candidate sampling and basis choice then see
 * the same numbers on every rank, so every rank returns the same model. Its
 * support indices number the rows of the concatenation of the shards in rank
 * order (rank 0's rows first), and its n (dsdkSVMDecisionFunction's) is the
 * number of all rows: a rank holds only its own, so it gathers the support
 * rows from their owners to predict alone (as dsdkern.svm.SVC does). */

/* Sums `count` elements of `buffer` (host memory, dtype FLOAT or DOUBLE) over
 * all ranks, in place: on return every rank holds the same sum, bit for bit.
 * Every rank calls it the same number of times with the same count and dtype,
 * from the thread that called dsdkSVMTrain. Returns SUCCESS, or any other
 * status when the exchange failed (dsdkSVMTrain then fails with
 * EXECUTION_FAILED). The core never calls it with count 0. */
typedef dsdkStatus_t (*dsdkSVMAllReduceFn)(void* buffer, int64_t count, dsdkDataType_t dtype,
                                           void* userData);

/* Makes dsdkSVMTrain with this descriptor train this rank's shard as part of
 * one problem over worldSize ranks (rank in [0, worldSize), userData passed
 * through to allReduce); allReduce = NULL or worldSize = 1 restores
 * single-process training. Only the SPSVM solver on a CPU handle trains this
 * way; dsdkSVMTrainOneVsOne does not (train each pair with dsdkSVMTrain).
 * Before any work, dsdkSVMTrain checks with one all-reduce that every rank's
 * own input is valid, that all ranks share the settings, d, dtype, solver and
 * handle thread count (every rank repeats the host's Newton solves, which must
 * round alike), and that all ranks together hold >= 2 rows of both classes
 * (one rank's shard may be empty: n = 0, X and y may then be NULL). On a
 * mismatch every rank returns the same status (BAD_PARAM, or NOT_SUPPORTED for
 * another solver or backend) naming the first rank at fault, instead of some
 * ranks waiting in an exchange that the others never join. Checked there,
 * stored as given here. */
dsdkStatus_t dsdkSetSVMCommunicator(dsdkSVMDescriptor_t desc, dsdkSVMAllReduceFn allReduce,
                                    void* userData, int rank, int worldSize);

#ifdef __cplusplus
}
#endif
#endif /* DSDKERN_DSDKERN_H */
