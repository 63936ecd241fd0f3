// dsdkMagnitudeMask on the CPU against the reference of mask_reference.h: TOPK and
// THRESHOLD over sizes on both sides of the parallel cut-off, float and double, keep
// 0 / 1 / n-1 / n and others, many ties, infinities, zeros of both signs; the same mask
// on 1, 2 and 3 threads; every BAD_PARAM path naming its argument.
#include <cmath>
#include <string>
#include <vector>

#include "check.h"
#include "mask_reference.h"

namespace {

struct Mask {
  dsdkHandle_t h = nullptr;
  Mask() { CHECK_OK(dsdkCreate(&h, DSDK_BACKEND_CPU)); }
  ~Mask() { dsdkDestroy(h); }

  // Runs the call with a workspace of the queried size; the mask starts as garbage.
  template <class T>
  dsdkStatus_t run(dsdkMaskMode_t mode, const std::vector<T>& w, int64_t keep, double t,
                   std::vector<uint8_t>* mask) {
    const dsdkDataType_t dtype = sizeof(T) == 8 ? DSDK_DATA_DOUBLE : DSDK_DATA_FLOAT;
    size_t bytes = 0;
    CHECK_OK(dsdkGetMagnitudeMaskWorkspaceSize(h, mode, dtype, int64_t(w.size()), &bytes));
    std::vector<int64_t> ws(bytes / 8 + 1);
    mask->assign(w.size(), 0xAB);
    return dsdkMagnitudeMask(h, mode, dtype, int64_t(w.size()), w.data(), keep, t, ws.data(),
                             bytes, mask->data());
  }
};

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
void check_values(Mask& m, const std::vector<double>& wd, uint32_t seed) {
  const std::vector<T> w = cast<T>(wd);
  const int64_t n = int64_t(w.size());
  std::vector<uint8_t> got;
  const mask_ref::Ranking ranking(wd);
  for (int64_t keep : mask_ref::keeps(n, seed)) {
    const std::vector<uint8_t> want = ranking.topk(keep);
    for (int threads : {1, 2, 3}) {
      CHECK_OK(dsdkSetNumThreads(m.h, threads));
      CHECK_OK(m.run(DSDK_MASK_TOPK, w, keep, 0.0, &got));
      if (got != want) {
        std::printf("  topk n=%lld keep=%lld threads=%d sizeof(T)=%zu differs\n", (long long)n,
                    (long long)keep, threads, sizeof(T));
        CHECK(got == want);
      }
    }
  }
  std::vector<double> thresholds = {0.0, 0.25, 1.0, 3.0, INFINITY, 0.05};
  if (n > 0) thresholds.push_back(std::fabs(wd[size_t(n / 2)]));
  for (double t : thresholds)
    for (int threads : {1, 2}) {
      CHECK_OK(dsdkSetNumThreads(m.h, threads));
      CHECK_OK(m.run(DSDK_MASK_THRESHOLD, w, 0, t, &got));
      CHECK(got == mask_ref::threshold(wd, t));
    }
}

void test_values() {
  Mask m;
  uint32_t seed = 7;
  // 2^18 and beyond run on the chunked parallel path.
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(2), int64_t(17), int64_t(1000),
                    int64_t(1) << 18, (int64_t(1) << 18) + 12345})
    for (mask_ref::Kind kind : mask_ref::kKinds) {
      ++seed;
      check_values<float>(m, mask_ref::make(kind, n, seed, [](double v) { return double(float(v)); }),
                          seed);
      check_values<double>(m, mask_ref::make(kind, n, seed, [](double v) { return v; }), seed);
    }
}

// Keys that agree in their top digits and differ only in the last bits, so that every
// level of the selection runs, and a value repeated across chunk borders.
void test_deep_ties() {
  Mask m;
  CHECK_OK(dsdkSetNumThreads(m.h, 2));
  const int64_t n = int64_t(1) << 19;
  std::vector<double> wd(static_cast<size_t>(n));
  std::mt19937 rng(99);
  for (auto& v : wd) v = 1.0 + std::ldexp(double(rng() % 8), -23) * ((rng() & 1) ? 1 : -1);
  std::vector<uint8_t> got;
  const mask_ref::Ranking ranking(wd);
  for (int64_t keep : {int64_t(1), n / 5, n / 2 + 3, n - 2}) {
    CHECK_OK(m.run(DSDK_MASK_TOPK, cast<float>(wd), keep, 0.0, &got));
    CHECK(got == ranking.topk(keep));
    CHECK_OK(m.run(DSDK_MASK_TOPK, wd, keep, 0.0, &got));
    CHECK(got == ranking.topk(keep));
  }
}

void test_bad_input() {
  Mask m;
  std::vector<float> w = {1.f, -2.f, 3.f, 0.f};
  std::vector<uint8_t> mask(4);
  std::vector<int64_t> ws(4096);
  const size_t bytes = ws.size() * 8;
  auto call = [&](dsdkMaskMode_t mode, dsdkDataType_t t, int64_t n, const void* data,
                  int64_t keep, double thr, void* work, size_t work_bytes, uint8_t* out) {
    return dsdkMagnitudeMask(m.h, mode, t, n, data, keep, thr, work, work_bytes, out);
  };
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), -1, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "keep");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), 5, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "keep");
  CHECK_STATUS(call(DSDK_MASK_THRESHOLD, DSDK_DATA_FLOAT, 4, w.data(), 0, -0.5, ws.data(), bytes,
                    mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "threshold");
  CHECK_STATUS(call(DSDK_MASK_THRESHOLD, DSDK_DATA_FLOAT, 4, w.data(), 0, NAN, ws.data(), bytes,
                    mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "threshold");
  CHECK_STATUS(call(dsdkMaskMode_t(7), DSDK_DATA_FLOAT, 4, w.data(), 1, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "mode");
  CHECK_STATUS(call(DSDK_MASK_TOPK, dsdkDataType_t(-3), 4, w.data(), 1, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "dtype");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_HALF, 4, w.data(), 1, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_NOT_SUPPORTED);
  CHECK_MESSAGE(m.h, "float16");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, -1, w.data(), 0, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "n must");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, nullptr, 1, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "w is NULL");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), 1, 0, ws.data(), bytes, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "mask is NULL");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), 1, 0, ws.data(), 8, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "workspaceSizeInBytes");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), 1, 0, nullptr, bytes, mask.data()),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "workspace is NULL");
  CHECK_STATUS(dsdkGetMagnitudeMaskWorkspaceSize(m.h, DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, nullptr),
               DSDK_STATUS_BAD_PARAM);
  CHECK_MESSAGE(m.h, "sizeInBytes");
  CHECK_STATUS(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), 1, 0, ws.data(), bytes, mask.data()),
               DSDK_STATUS_SUCCESS);
  CHECK(std::string(dsdkGetLastErrorMessage(m.h)).empty());
  CHECK_STATUS(dsdkMagnitudeMask(nullptr, DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 4, w.data(), 1, 0,
                                 ws.data(), bytes, mask.data()),
               DSDK_STATUS_NOT_INITIALIZED);
  // n = 0 reads and writes nothing.
  CHECK_OK(call(DSDK_MASK_TOPK, DSDK_DATA_FLOAT, 0, nullptr, 0, 0, nullptr, 0, nullptr));

  // A NaN anywhere is refused in both modes, on both paths, with its index.
  for (int64_t n : {int64_t(9), int64_t(1) << 18}) {
    for (int64_t at : {int64_t(0), n / 2, n - 1}) {
      std::vector<double> wd(static_cast<size_t>(n), 1.0);
      wd[size_t(at)] = NAN;
      if (at > 0) wd[size_t(n - 1)] = -NAN;  // a second NaN, after the first
      std::vector<uint8_t> out;
      const std::string want = "w[" + std::to_string(at) + "] is NaN";
      CHECK_STATUS(m.run(DSDK_MASK_TOPK, cast<float>(wd), 1, 0.0, &out), DSDK_STATUS_BAD_PARAM);
      CHECK_MESSAGE(m.h, want.c_str());
      CHECK_STATUS(m.run(DSDK_MASK_TOPK, wd, 0, 0.0, &out), DSDK_STATUS_BAD_PARAM);
      CHECK_MESSAGE(m.h, want.c_str());
      CHECK_STATUS(m.run(DSDK_MASK_THRESHOLD, cast<float>(wd), 0, 0.5, &out), DSDK_STATUS_BAD_PARAM);
      CHECK_MESSAGE(m.h, want.c_str());
      CHECK_STATUS(m.run(DSDK_MASK_THRESHOLD, wd, 0, 0.5, &out), DSDK_STATUS_BAD_PARAM);
      CHECK_MESSAGE(m.h, want.c_str());
    }
  }
}

}  // namespace

int main() {
  test_values();
  test_deep_ties();
  test_bad_input();
  return check::report("test_magnitude_mask");
}
