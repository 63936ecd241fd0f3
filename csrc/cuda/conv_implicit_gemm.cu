// CUDA masked implicit-GEMM convolution, host side: checks what the kernels assume
// (index products that fit in int, element alignment, grid limits), plans how the filter
// gradient splits its reduction, and turns data type / beta == 0 / mask / tile size into
// kernel template arguments.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>

#include "core/conv_backends.h"
#include "cuda/conv_operands.cuh"
#include "cuda/cuda_check.cuh"
#include "cuda/implicit_gemm.cuh"
#include "cuda/static_switch.cuh"

namespace dsdk {
namespace cuda {
namespace {

// Bound on every product the kernels index with in int (so that adding a tile or a
// filter extent cannot overflow either).
constexpr int64_t kMaxIndex = int64_t(1) << 30;
// Bound on the filter's element count (k * c/groups * r * s), so that workspace sizes
// stay far from int64 overflow.
constexpr int64_t kMaxFilterElements = int64_t(1) << 40;
// Filter gradient: its reduction (batch x output pixels) is split until a launch has
// about kTargetBlocks blocks (H100: 132 SMs), but each split keeps kMinStepsPerSplit
// slices, there are at most kMaxSplits, and the partial sums stay under kMaxPartialBytes.
constexpr int64_t kTargetBlocks = 1024;
constexpr int64_t kMinStepsPerSplit = 8;
constexpr int64_t kMaxSplits = 64;
constexpr int64_t kMaxPartialBytes = int64_t(128) << 20;
constexpr int kFinishThreads = 256;
constexpr int64_t kFinishMaxBlocks = 8192;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

template <bool kSmall>
using TileFor = std::conditional_t<kSmall, SmallTile, LargeTile>;

// Fills `geo`, or NOT_SUPPORTED when an index product could overflow the kernels' int math.
dsdkStatus_t make_geom(const ConvShape& sh, ConvGeom* geo, std::string* msg) {
  const int cg = sh.c / sh.groups, kg = sh.k / sh.groups;
  const int64_t rs = int64_t(sh.r) * sh.s;
  const struct {
    const char* what;
    int64_t value, limit;
  } checks[] = {
      {"batch size", sh.n, kMaxIndex},
      {"c/groups * r * s", cg * rs, kMaxIndex},
      {"k/groups * r * s", kg * rs, kMaxIndex},
      {"p * q", int64_t(sh.p) * sh.q, kMaxIndex},
      {"h * w", int64_t(sh.h) * sh.w, kMaxIndex},
      {"h + 2*pad_h + stride_h + dil_h*(r-1)",
       int64_t(sh.h) + 2 * int64_t(sh.pad_h) + sh.stride_h + int64_t(sh.dil_h) * (sh.r - 1),
       kMaxIndex},
      {"w + 2*pad_w + stride_w + dil_w*(s-1)",
       int64_t(sh.w) + 2 * int64_t(sh.pad_w) + sh.stride_w + int64_t(sh.dil_w) * (sh.s - 1),
       kMaxIndex},
      {"filter elements", int64_t(sh.k) * cg * rs, kMaxFilterElements},
  };
  for (const auto& c : checks)
    if (c.value > c.limit)
      return fail(msg, DSDK_STATUS_NOT_SUPPORTED,
                  "%s = %lld exceeds what the CUDA implicit GEMM indexes (%lld)", c.what,
                  static_cast<long long>(c.value), static_cast<long long>(c.limit));
  *geo = ConvGeom{sh.n,     sh.c,     sh.h,        sh.w,        sh.k,     sh.r,     sh.s,
                  sh.groups, cg,      kg,          sh.p,        sh.q,     sh.pad_h, sh.pad_w,
                  sh.stride_h, sh.stride_w, sh.dil_h, sh.dil_w, int(rs),  int(cg * rs),
                  int(kg * rs), sh.p * sh.q, sh.h * sh.w};
  return DSDK_STATUS_SUCCESS;
}

// How the filter gradient splits its reduction. Depends on the shape and the
// accumulator size only, so that the workspace query and the launch agree.
struct FilterPlan {
  bool small;      // SmallTile
  int64_t splits;  // 0 for an empty batch (dw = beta * dw, no GEMM)
  int64_t chunk;   // reduction length per split, a multiple of the tile's BK
  size_t bytes;    // workspace: splits x k x crs partial sums
};

FilterPlan plan_filter(const ConvGeom& geo, size_t acc_bytes) {
  FilterPlan pl{use_small_tile(geo.kg, geo.crs), 0, 0, 0};
  const int64_t reduction = int64_t(geo.n) * geo.pq;
  if (reduction == 0) return pl;
  const int bm = pl.small ? SmallTile::BM : LargeTile::BM;
  const int bn = pl.small ? SmallTile::BN : LargeTile::BN;
  const int bk = pl.small ? SmallTile::BK : LargeTile::BK;
  const int64_t steps = ceil_div(reduction, bk);
  const int64_t tiles = int64_t(geo.groups) * ceil_div(geo.kg, bm) * ceil_div(geo.crs, bn);
  const int64_t slab = int64_t(geo.k) * geo.crs * int64_t(acc_bytes);
  const int64_t want = std::max<int64_t>(
      1, std::min({ceil_div(kTargetBlocks, tiles), steps / kMinStepsPerSplit, kMaxSplits,
                   kMaxPartialBytes / slab}));
  const int64_t chunk_steps = ceil_div(steps, want);
  pl.splits = ceil_div(steps, chunk_steps);  // no split is left empty
  pl.chunk = chunk_steps * bk;
  pl.bytes = size_t(pl.splits * slab);
  return pl;
}

size_t acc_bytes(dsdkDataType_t t) { return t == DSDK_DATA_DOUBLE ? 8 : 4; }

}  // namespace

size_t conv_implicit_gemm_workspace(dsdkConvDirection_t dir, const ConvShape& sh,
                                    dsdkDataType_t dtype) {
  if (dir != DSDK_CONV_BACKWARD_FILTER) return 0;
  ConvGeom geo;
  // An unsupported shape needs nothing; the compute call reports why it cannot run.
  if (make_geom(sh, &geo, nullptr) != DSDK_STATUS_SUCCESS) return 0;
  return plan_filter(geo, acc_bytes(dtype)).bytes;
}

dsdkStatus_t conv_implicit_gemm_fwd(const ConvFwdArgs& a, void*, size_t, void* stream,
                                    std::string* msg) {
  ConvGeom geo;
  dsdkStatus_t st = make_geom(a.sh, &geo, msg);
  if (st != DSDK_STATUS_SUCCESS || geo.n == 0) return st;
  const GemmGrid grid{geo.kg, int64_t(geo.n) * geo.pq, geo.crs, 0, geo.crs};
  return dtype_switch(a.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    dsdkStatus_t s = check_aligned<T>(a.x, "x", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.w, "w", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.y, "y", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.bias, "bias", msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    const FwdParams<T> p{geo,
                         static_cast<const T*>(a.x), a.xs,
                         static_cast<const T*>(a.w), a.mask,
                         static_cast<T*>(a.y), a.ys,
                         acc_t<T>(a.alpha), acc_t<T>(a.beta),
                         static_cast<const T*>(a.bias)};
    return bool_switch(a.beta == 0.0, [&](auto beta_zero) {
      return bool_switch(a.mask != nullptr, [&](auto has_mask) {
        return bool_switch(use_small_tile(grid.m, grid.n), [&](auto small) {
          using Op = FwdOp<T, TileFor<decltype(small)::value>, decltype(has_mask)::value,
                           decltype(beta_zero)::value>;
          return launch_gemm<Op>("conv forward implicit_gemm_kernel", p, geo.groups, grid, 1,
                                 as_stream(stream), msg);
        });
      });
    });
  });
}

dsdkStatus_t conv_implicit_gemm_bwd_data(const ConvBwdDataArgs& a, void*, size_t, void* stream,
                                         std::string* msg) {
  ConvGeom geo;
  dsdkStatus_t st = make_geom(a.sh, &geo, msg);
  if (st != DSDK_STATUS_SUCCESS || geo.n == 0) return st;
  const GemmGrid grid{geo.cg, int64_t(geo.n) * geo.hw, geo.krs, 0, geo.krs};
  return dtype_switch(a.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    dsdkStatus_t s = check_aligned<T>(a.w, "w", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.dy, "dy", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<T>(a.dx, "dx", msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    const BwdDataParams<T> p{geo,
                             static_cast<const T*>(a.w), a.mask,
                             static_cast<const T*>(a.dy), a.dys,
                             static_cast<T*>(a.dx), a.dxs,
                             acc_t<T>(a.alpha), acc_t<T>(a.beta)};
    return bool_switch(a.beta == 0.0, [&](auto beta_zero) {
      return bool_switch(a.mask != nullptr, [&](auto has_mask) {
        return bool_switch(use_small_tile(grid.m, grid.n), [&](auto small) {
          using Op = BwdDataOp<T, TileFor<decltype(small)::value>, decltype(has_mask)::value,
                               decltype(beta_zero)::value>;
          return launch_gemm<Op>("conv backward-data implicit_gemm_kernel", p, geo.groups, grid,
                                 1, as_stream(stream), msg);
        });
      });
    });
  });
}

dsdkStatus_t conv_implicit_gemm_bwd_filter(const ConvBwdFilterArgs& a, void* ws, size_t ws_bytes,
                                           void* stream, std::string* msg) {
  ConvGeom geo;
  dsdkStatus_t st = make_geom(a.sh, &geo, msg);
  if (st != DSDK_STATUS_SUCCESS) return st;
  return dtype_switch(a.dtype, [&](auto tag) -> dsdkStatus_t {
    using T = typename decltype(tag)::type;
    using Acc = acc_t<T>;
    const FilterPlan pl = plan_filter(geo, sizeof(Acc));
    if (ws_bytes < pl.bytes || (pl.bytes > 0 && !ws))
      return fail(msg, DSDK_STATUS_BAD_PARAM, "workspace has %zu bytes but %zu are needed",
                  ws ? ws_bytes : size_t(0), pl.bytes);
    dsdkStatus_t s = check_aligned<T>(a.dw, "dw", msg);
    if (s == DSDK_STATUS_SUCCESS && pl.splits > 0) s = check_aligned<T>(a.x, "x", msg);
    if (s == DSDK_STATUS_SUCCESS && pl.splits > 0) s = check_aligned<T>(a.dy, "dy", msg);
    if (s == DSDK_STATUS_SUCCESS) s = check_aligned<Acc>(ws, "workspace", msg);
    if (s != DSDK_STATUS_SUCCESS) return s;
    const cudaStream_t strm = as_stream(stream);
    Acc* partial = static_cast<Acc*>(ws);

    if (pl.splits > 0) {
      const BwdFilterParams<T> p{geo, static_cast<const T*>(a.x), a.xs,
                                 static_cast<const T*>(a.dy), a.dys, partial};
      const GemmGrid grid{geo.kg, geo.crs, int64_t(geo.n) * geo.pq, 0, pl.chunk};
      s = bool_switch(pl.small, [&](auto small) {
        using Op = BwdFilterOp<T, TileFor<decltype(small)::value>>;
        return launch_gemm<Op>("conv backward-filter implicit_gemm_kernel", p, geo.groups, grid,
                               pl.splits, strm, msg);
      });
      if (s != DSDK_STATUS_SUCCESS) return s;
    }

    const int64_t count = int64_t(geo.k) * geo.crs;
    const unsigned blocks = unsigned(std::min(ceil_div(count, kFinishThreads), kFinishMaxBlocks));
    return bool_switch(a.beta == 0.0, [&](auto beta_zero) {
      return bool_switch(a.mask != nullptr, [&](auto has_mask) {
        bwd_filter_finish_kernel<T, decltype(has_mask)::value, decltype(beta_zero)::value>
            <<<blocks, kFinishThreads, 0, strm>>>(partial, int(pl.splits), count, a.mask,
                                                  static_cast<T*>(a.dw), Acc(a.alpha),
                                                  Acc(a.beta));
        return launch_status("conv backward-filter bwd_filter_finish_kernel", msg);
      });
    });
  });
}

}  // namespace cuda
}  // namespace dsdk
