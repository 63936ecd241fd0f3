// Scheduler of the CUDA emulation and host stand-ins for the runtime API.
//
// Launches run to completion before they return, their blocks one after
// another in a random order. Each thread of a block is a fibre with its own
// stack, and the scheduler always resumes a random runnable fibre (seeded by
// EMU_SEED), so every order of the threads between synchronisation points can
// happen. A fibre stops being runnable at __syncthreads (until all threads of
// the block wait there, at the same source line) and at a warp intrinsic
// (until every lane named in its mask has called the same intrinsic with the
// same mask). These abort with "EMU ERROR": threads that exit while others
// wait at a barrier, threads waiting at different barriers, a warp intrinsic
// whose mask leaves out the calling lane or names missing lanes, lanes of one
// warp meeting in different intrinsics or masks, a deadlock (a mask naming a
// lane that waits elsewhere or has exited), a shuffle reading a lane outside
// the mask, a copy or memset that leaves its device allocation or treats
// device memory as host memory (or the reverse), freeing a non-allocation.
//
// Device memory is malloc'd (so AddressSanitizer sees out-of-bounds device
// accesses) and filled with 0xff bytes, as are __shared__ variables per block:
// reading memory before writing it gives NaN or -1.
//
// Not modelled: the memory model (a thread runs alone until it synchronises,
// so races inside a barrier interval go unseen), warp lockstep and timing,
// stream concurrency (everything is synchronous), resource limits (registers,
// shared memory size, __launch_bounds__), device floating point (FMA
// contraction, intrinsic precision) and performance.
#include <sys/mman.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "emu.h"
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#endif

// Saves the callee-saved registers, MXCSR and the x87 control word on the
// current stack, stores the stack pointer in *save_sp and resumes the context
// saved at new_sp (no signal-mask system calls, unlike swapcontext).
extern "C" void emu_swap(void** save_sp, void* new_sp);
asm(R"(
.text
.globl emu_swap
.type emu_swap,@function
emu_swap:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_swap,.-emu_swap
.section .note.GNU-stack,"",@progbits
.text
)");

namespace {

enum State { RUN, BAR, WARP, DONE };

struct Fiber {
  void* sp = nullptr;
  char* stack = nullptr;
  State st = DONE;
  int bar_line = 0;  // where it waits at a barrier
  const char* bar_file = nullptr;
  uint64_t result = 0;  // of its last warp intrinsic
#ifdef EMU_ASAN
  void* fake_stack = nullptr;
#endif
};

struct WarpGroup {  // a warp intrinsic that not all lanes of its mask reached yet
  EmuWarpOp op;
  unsigned mask, arrived;
  int size, width;
  uint64_t val[32];
  int param[32];
};

const size_t kStack = size_t(256) << 10;
cudaError_t g_last = cudaSuccess;
void* g_sched_sp = nullptr;
std::vector<Fiber> g_fib;
std::vector<std::vector<WarpGroup>> g_warps;  // per warp of the running block
std::vector<int> g_runnable;
int g_cur = -1, g_nthreads = 0, g_nbar = 0, g_ndone = 0;
const std::function<void()>* g_body = nullptr;
const char* g_kernel = "";
std::mt19937_64 g_rng;
uint64_t g_block_serial = 0;
size_t g_launches = 0, g_blocks = 0, g_barriers = 0, g_warp_ops = 0;
std::map<const void*, uint64_t> g_shared_seen;  // __shared__ variable -> block serial
std::map<uintptr_t, size_t> g_dev;              // device allocation start -> bytes
bool g_poison = true;
#ifdef EMU_ASAN
const void* g_sched_bottom = nullptr;
size_t g_sched_size = 0;
#endif

[[noreturn]] __attribute__((format(printf, 1, 2))) void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "EMU ERROR in kernel %s, block (%u,%u,%u), thread %d: ", g_kernel,
               blockIdx.x, blockIdx.y, blockIdx.z, g_cur);
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::fflush(stderr);
  std::abort();
}

struct Setup {
  Setup() {
    const char* seed = std::getenv("EMU_SEED");
    g_rng.seed(seed ? std::strtoull(seed, nullptr, 10) : 12345);
    g_poison = std::getenv("EMU_NO_POISON") == nullptr;
    std::setvbuf(stdout, nullptr, _IONBF, 0);  // keep the output of a run that aborts
  }
  ~Setup() {
    std::fprintf(stderr,
                 "EMU: %zu launches, %zu blocks, %zu barriers, %zu warp-intrinsic calls, %zu "
                 "device allocations not freed\n",
                 g_launches, g_blocks, g_barriers, g_warp_ops, g_dev.size());
  }
} g_setup;

// Fibre -> scheduler.
void yield_to_scheduler() {
  Fiber& f = g_fib[size_t(g_cur)];
#ifdef EMU_ASAN
  __sanitizer_start_switch_fiber(&f.fake_stack, g_sched_bottom, g_sched_size);
  emu_swap(&f.sp, g_sched_sp);
  __sanitizer_finish_switch_fiber(f.fake_stack, &g_sched_bottom, &g_sched_size);
#else
  emu_swap(&f.sp, g_sched_sp);
#endif
}

void fiber_entry() {
#ifdef EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &g_sched_bottom, &g_sched_size);
#endif
  (*g_body)();
  g_fib[size_t(g_cur)].st = DONE;
  ++g_ndone;
#ifdef EMU_ASAN
  __sanitizer_start_switch_fiber(nullptr, g_sched_bottom, g_sched_size);
#endif
  void* unused;
  emu_swap(&unused, g_sched_sp);
  __builtin_unreachable();
}

// A stack that emu_swap "returns" into fiber_entry from, with the ABI's
// alignment at function entry (rsp = 8 mod 16).
void* initial_sp(char* stack) {
  const uintptr_t top = (uintptr_t(stack) + kStack) & ~uintptr_t(15);
  uint64_t* sp = reinterpret_cast<uint64_t*>(top - 72);
  const uint32_t control[2] = {0x1f80u, 0x037fu};  // default MXCSR, x87 control word
  std::memcpy(sp, control, 8);
  for (int i = 1; i <= 6; ++i) sp[i] = 0;  // r15 .. rbp
  sp[7] = reinterpret_cast<uint64_t>(&fiber_entry);
  sp[8] = 0;
  return sp;
}

// Scheduler -> fibre t.
void resume(int t) {
  g_cur = t;
  threadIdx = uint3{unsigned(t % blockDim.x), unsigned((t / blockDim.x) % blockDim.y),
                    unsigned(t / (blockDim.x * blockDim.y))};
  Fiber& f = g_fib[size_t(t)];
#ifdef EMU_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, f.stack, kStack);
  emu_swap(&g_sched_sp, f.sp);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  emu_swap(&g_sched_sp, f.sp);
#endif
}

const char* op_name(EmuWarpOp op) {
  switch (op) {
    case EMU_SHFL_XOR: return "__shfl_xor_sync";
    case EMU_SHFL_UP: return "__shfl_up_sync";
    default: return "__ballot_sync";
  }
}

std::string describe(int t) {
  switch (g_fib[size_t(t)].st) {
    case RUN: return "runnable";
    case BAR: return "at __syncthreads";
    case DONE: return "exited";
    default: break;
  }
  for (const WarpGroup& g : g_warps[size_t(t / 32)])
    if (g.arrived >> (t % 32) & 1u) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "in %s(mask %08x)", op_name(g.op), g.mask);
      return buf;
    }
  return "?";
}

// All lanes of g arrived: every lane's result, and the waiting ones become runnable.
void complete(const WarpGroup& g, int warp) {
  for (int l = 0; l < 32; ++l) {
    if (!(g.mask >> l & 1u)) continue;
    uint64_t r = 0;
    if (g.op == EMU_BALLOT) {
      for (int k = 0; k < 32; ++k)
        if ((g.mask >> k & 1u) && g.val[k]) r |= 1ull << k;
    } else {
      const int w = g.width, p = g.param[l];
      int src;
      if (g.op == EMU_SHFL_XOR) {
        src = l ^ p;
        if (src / w > l / w) src = l;  // a later segment of width w: own value
      } else {
        src = l % w < p ? l : l - p;
      }
      if (src < 0 || src > 31 || !(g.mask >> src & 1u))
        die("%s(mask %08x): lane %d reads lane %d, which is not in the mask", op_name(g.op),
            g.mask, l, src);
      r = g.val[src];
    }
    const int t = warp * 32 + l;
    g_fib[size_t(t)].result = r;
    if (t != g_cur) {
      g_fib[size_t(t)].st = RUN;
      g_runnable.push_back(t);
    }
  }
}

}  // namespace

uint64_t emu_warp_op(EmuWarpOp op, unsigned mask, uint64_t value, int size, int param, int width) {
  ++g_warp_ops;
  const int t = g_cur, warp = t / 32, lane = t % 32;
  const int lanes = std::min(32, g_nthreads - warp * 32);
  const unsigned present = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1u;
  if (!(mask >> lane & 1u))
    die("%s(mask %08x) called by lane %d, which is not in the mask", op_name(op), mask, lane);
  if (mask & ~present)
    die("%s(mask %08x) names lanes that do not exist (warp %d has %d threads)", op_name(op), mask,
        warp, lanes);
  if (width <= 0 || width > 32 || (width & (width - 1)))
    die("%s: width %d is not a power of 2 <= 32", op_name(op), width);
  std::vector<WarpGroup>& groups = g_warps[size_t(warp)];
  WarpGroup* g = nullptr;
  for (WarpGroup& c : groups) {
    if (!(c.mask & mask)) continue;
    if (c.mask != mask || c.op != op || c.size != size || c.width != width)
      die("lane %d calls %s(mask %08x, %d bytes) while lanes %08x of its warp wait in "
          "%s(mask %08x, %d bytes)",
          lane, op_name(op), mask, size, c.arrived, op_name(c.op), c.mask, c.size);
    g = &c;
  }
  if (!g) {
    groups.push_back(WarpGroup{op, mask, 0u, size, width, {}, {}});
    g = &groups.back();
  }
  g->val[lane] = value;
  g->param[lane] = param;
  g->arrived |= 1u << lane;
  Fiber& f = g_fib[size_t(t)];
  if (g->arrived == mask) {
    complete(*g, warp);
    groups.erase(groups.begin() + (g - groups.data()));
    f.st = RUN;  // still yields, so that the other lanes may run first
    g_runnable.push_back(t);
  } else {
    f.st = WARP;
  }
  yield_to_scheduler();
  return f.result;
}

void __syncthreads(int line, const char* file) {
  Fiber& f = g_fib[size_t(g_cur)];
  f.bar_line = line;
  f.bar_file = file;
  f.st = BAR;
  ++g_nbar;
  yield_to_scheduler();
}

void emu_shared_init(void* p, size_t bytes) {
  uint64_t& seen = g_shared_seen[p];
  if (seen == g_block_serial) return;
  seen = g_block_serial;
  if (g_poison) std::memset(p, 0xff, bytes);
}

namespace {

void release_barrier(int n) {
  if (g_ndone > 0)
    die("barrier divergence: %d of %d threads exited while the others wait at __syncthreads",
        g_ndone, n);
  const Fiber& f0 = g_fib[0];
  for (int t = 1; t < n; ++t) {
    const Fiber& f = g_fib[size_t(t)];
    if (f.bar_line != f0.bar_line || std::strcmp(f.bar_file, f0.bar_file) != 0)
      die("barrier divergence: threads 0 and %d wait at different __syncthreads (%s:%d, %s:%d)",
          t, f0.bar_file, f0.bar_line, f.bar_file, f.bar_line);
  }
  for (int t = 0; t < n; ++t) {
    g_fib[size_t(t)].st = RUN;
    g_runnable.push_back(t);
  }
  g_nbar = 0;
  ++g_barriers;
}

[[noreturn]] void report_deadlock() {
  for (size_t w = 0; w < g_warps.size(); ++w)
    for (const WarpGroup& g : g_warps[w]) {
      std::fprintf(stderr, "EMU: warp %zu waits in %s(mask %08x), arrived %08x; missing:\n", w,
                   op_name(g.op), g.mask, g.arrived);
      for (int l = 0; l < 32; ++l)
        if ((g.mask >> l & 1u) && !(g.arrived >> l & 1u))
          std::fprintf(stderr, "  lane %d: %s\n", l, describe(int(w) * 32 + l).c_str());
    }
  die("deadlock: %d threads at __syncthreads, %d exited, the others in warp intrinsics", g_nbar,
      g_ndone);
}

void run_block(int n) {
  ++g_block_serial;
  if (int(g_fib.size()) < n) g_fib.resize(size_t(n));
  g_warps.assign(size_t((n + 31) / 32), {});
  g_runnable.clear();
  for (int t = 0; t < n; ++t) {
    Fiber& f = g_fib[size_t(t)];
    if (!f.stack) {
      void* m = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) die("mmap of a fibre stack failed");
      f.stack = static_cast<char*>(m);
    }
#ifdef EMU_ASAN
    // The entry frame of the stack's previous fibre never returned: clear its redzones.
    ASAN_UNPOISON_MEMORY_REGION(f.stack + kStack - 16384, 16384);
#endif
    f.sp = initial_sp(f.stack);
    f.st = RUN;
    g_runnable.push_back(t);
  }
  g_nthreads = n;
  g_nbar = 0;
  g_ndone = 0;
  for (;;) {
    if (g_runnable.empty()) {
      if (g_ndone == n) break;
      if (g_nbar + g_ndone == n) {
        release_barrier(n);
        continue;
      }
      report_deadlock();
    }
    const size_t k = size_t(g_rng() % g_runnable.size());
    const int t = g_runnable[k];
    g_runnable[k] = g_runnable.back();
    g_runnable.pop_back();
    resume(t);
  }
  ++g_blocks;
}

}  // namespace

void emu_launch(const std::function<void()>& body, dim3 grid, dim3 block, const char* kernel) {
  ++g_launches;
  const unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 ||
      grid.z > 65535 || threads == 0 || threads > 1024 || block.z > 64) {
    std::fprintf(stderr, "EMU: invalid launch of %s: grid (%u,%u,%u), block (%u,%u,%u)\n", kernel,
                 grid.x, grid.y, grid.z, block.x, block.y, block.z);
    g_last = cudaErrorInvalidConfiguration;
    return;
  }
  gridDim = grid;
  blockDim = block;
  g_body = &body;
  g_kernel = kernel;
  // Blocks in a random order too: nothing may depend on the order of blocks.
  const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  std::vector<uint64_t> order(blocks);
  for (uint64_t b = 0; b < blocks; ++b) order[b] = b;
  std::shuffle(order.begin(), order.end(), g_rng);
  for (const uint64_t b : order) {
    blockIdx = uint3{unsigned(b % grid.x), unsigned(b / grid.x % grid.y),
                     unsigned(b / (uint64_t(grid.x) * grid.y))};
    run_block(int(threads));
  }
  g_kernel = "";
  g_cur = -1;
}

// ---- device memory -----------------------------------------------------------

namespace {

bool inside_device(const void* p, size_t bytes) {
  const uintptr_t a = uintptr_t(p);
  auto it = g_dev.upper_bound(a);
  if (it == g_dev.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

bool touches_device(const void* p, size_t bytes) {
  const uintptr_t a = uintptr_t(p);
  auto it = g_dev.upper_bound(a + bytes - 1);
  if (it == g_dev.begin()) return false;
  --it;
  return it->first + it->second > a;
}

void check_host(const void* p, size_t bytes, const char* what) {
  if (bytes && touches_device(p, bytes))
    die("%s: host range [%p, +%zu) is device memory", what, p, bytes);
}

void check_copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, const char* what) {
  switch (kind) {
    case cudaMemcpyHostToDevice:
      emu_check_device(dst, n, what);
      check_host(src, n, what);
      break;
    case cudaMemcpyDeviceToHost:
      check_host(dst, n, what);
      emu_check_device(src, n, what);
      break;
    case cudaMemcpyDeviceToDevice:
      emu_check_device(dst, n, what);
      emu_check_device(src, n, what);
      break;
    case cudaMemcpyHostToHost:
      check_host(dst, n, what);
      check_host(src, n, what);
      break;
    default: break;  // cudaMemcpyDefault: either
  }
  const uintptr_t a = uintptr_t(dst), b = uintptr_t(src);
  if (n && a < b + n && b < a + n) die("%s: source and destination overlap", what);
}

}  // namespace

void emu_check_device(const void* p, size_t bytes, const char* what) {
  if (bytes && !inside_device(p, bytes))
    die("%s: [%p, +%zu) is not inside one device allocation", what, p, bytes);
}

extern "C" {
cudaError_t cudaGetDeviceCount(int* count) {
  const bool none = std::getenv("EMU_NO_DEVICE") != nullptr;
  *count = none ? 0 : 1;
  return none ? cudaErrorNoDevice : cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return g_last = cudaErrorInvalidDevice;
  if (attr != cudaDevAttrMultiProcessorCount) die("cudaDeviceGetAttribute(%d): not emulated", int(attr));
  *value = 132;  // H100 SXM
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  const char* mb = std::getenv("EMU_FREE_MB");
  *total_bytes = size_t(80) << 30;
  *free_bytes = mb ? size_t(std::strtoull(mb, nullptr, 10)) << 20 : size_t(79) << 30;
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t n) {
  *p = std::malloc(n ? n : 1);
  if (!*p) return g_last = cudaErrorMemoryAllocation;
  if (g_poison) std::memset(*p, 0xff, n);
  g_dev[uintptr_t(*p)] = n ? n : 1;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  auto it = g_dev.find(uintptr_t(p));
  if (it == g_dev.end()) die("cudaFree(%p): not a device allocation", p);
  g_dev.erase(it);
  std::free(p);
  return cudaSuccess;
}
// Device allocations are device memory; everything else is unregistered host memory.
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* at, const void* p) {
  *at = cudaPointerAttributes{};
  const bool dev = inside_device(p, 1);
  at->type = dev ? cudaMemoryTypeDevice : cudaMemoryTypeUnregistered;
  at->devicePointer = dev ? const_cast<void*>(p) : nullptr;
  at->hostPointer = dev ? nullptr : const_cast<void*>(p);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  check_copy(dst, src, n, kind, "cudaMemcpy");
  if (n) std::memcpy(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind,
                            cudaStream_t) {
  check_copy(dst, src, n, kind, "cudaMemcpyAsync");
  if (n) std::memcpy(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int v, size_t n) {
  emu_check_device(p, n, "cudaMemset");
  if (n) std::memset(p, v, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) {
  emu_check_device(p, n, "cudaMemsetAsync");
  if (n) std::memset(p, v, n);
  return cudaSuccess;
}
// Work runs when it is issued, so a stream is only a distinct token to pass around.
cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = reinterpret_cast<cudaStream_t>(new char);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete reinterpret_cast<char*>(s);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaGetLastError(void) {
  const cudaError_t e = g_last;
  g_last = cudaSuccess;
  return e;
}
const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    default: return "cudaErrorUnknown";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaSuccess ? "no error" : "error reported by the emulator";
}
}
