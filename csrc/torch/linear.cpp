// masked_linear on dsdkMaskedGemm. With X = input as [rows, in] and Y as [rows, out]:
//   forward       Y  = X · (W ⊙ M)^T (+ bias)      mask on B, packed with W
//   backward data dX = dY · (W ⊙ M)
//   backward wgt  dW = (dY^T · X) ⊙ M              mask on C, in the tile update
// Operands are read in place whenever one of their two dimensions has unit stride (the
// GEMM takes a transpose flag and a leading dimension), so transposed and sliced
// weights and inputs cost no copy.
#include "torch/linear.h"

#include <algorithm>
#include <vector>

#include "torch/common.h"
#include "torch/conv_common.h"

namespace dsdk_torch {
namespace {

// A 2-D tensor as a row-major GEMM operand: `stored` is the matrix as memory holds it
// (the tensor, or its transpose when `trans`), with leading dimension ld.
struct Operand {
  at::Tensor t;
  bool trans;
  int64_t ld;
};

Operand operand(const at::Tensor& t) {
  const int64_t r = t.size(0), c = t.size(1);
  if (t.stride(1) == 1 || c <= 1) {
    const int64_t ld = r <= 1 ? std::max<int64_t>(c, 1) : t.stride(0);
    if (ld >= std::max<int64_t>(c, 1)) return {t, false, ld};
  }
  if (t.stride(0) == 1 || r <= 1) {
    const int64_t ld = c <= 1 ? std::max<int64_t>(r, 1) : t.stride(1);
    if (ld >= std::max<int64_t>(r, 1)) return {t, true, ld};
  }
  return {t.contiguous(), false, std::max<int64_t>(c, 1)};
}

dsdkOperation_t op_of(bool trans) { return trans ? DSDK_OP_T : DSDK_OP_N; }

// The mask as bytes laid out exactly like `like` (the C API reads a mask with its
// matrix's leading dimension).
at::Tensor mask_like(const at::Tensor& mask, const at::Tensor& like) {
  at::Tensor m = mask_bytes(mask);
  if (m.strides() == like.strides()) return m;
  return at::empty_strided(like.sizes(), like.strides(), m.options()).copy_(m);
}

// C (m x n, row-major, ldc) = alpha * (op(A) · op(B ⊙ maskB)) ⊙ maskC + beta * C.
void gemm(dsdkHandle_t h, const char* op, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
          const at::Tensor& a, int64_t lda, const at::Tensor& b, int64_t ldb,
          const at::Tensor* mask_b, double beta, at::Tensor& c, int64_t ldc,
          const at::Tensor* mask_c) {
  const dsdkDataType_t t = dsdk_dtype(c.scalar_type());
  size_t bytes = 0;
  check_dsdk(dsdkGetMaskedGemmWorkspaceSize(h, t, m, n, k, &bytes), h, op,
             "dsdkGetMaskedGemmWorkspaceSize");
  at::Tensor ws = at::empty({int64_t(bytes)}, c.options().dtype(at::kByte));
  Scalars s(c.scalar_type(), 1.0, beta);
  check_dsdk(dsdkMaskedGemm(h, t, op_of(ta), op_of(tb), m, n, k, s.alpha(), a.const_data_ptr(),
                            lda, b.const_data_ptr(), ldb,
                            mask_b ? mask_b->const_data_ptr<uint8_t>() : nullptr, s.beta(),
                            c.data_ptr(), ldc,
                            mask_c ? mask_c->const_data_ptr<uint8_t>() : nullptr,
                            ws.data_ptr(), bytes),
             h, op, "dsdkMaskedGemm");
}

}  // namespace

// Explicit rows: -1 cannot be inferred when n is 0.
at::Tensor rows_of(const at::Tensor& t) {
  const auto lead = t.sizes().slice(0, t.dim() - 1);
  return t.reshape({c10::multiply_integers(lead.begin(), lead.end()), t.size(-1)});
}

std::vector<int64_t> output_shape(const at::Tensor& input, int64_t out) {
  std::vector<int64_t> s(input.sizes().begin(), input.sizes().end() - 1);
  s.push_back(out);
  return s;
}

void check_masked_linear(const char* op, const at::Tensor& input, const at::Tensor& weight,
                         const at::Tensor& mask, const std::optional<at::Tensor>& bias,
                         const at::Tensor* grad_output, const char* backend,
                         std::initializer_list<at::ScalarType> dtypes) {
  const bool has_bias = bias.has_value() && bias->defined();
  const at::Tensor* bias_t = has_bias ? &*bias : nullptr;
  check_operand_devices(op, input, weight, mask, bias_t, grad_output);

  TORCH_CHECK(input.dim() >= 1, op, ": input must have at least 1 dimension [..., in_features], "
              "got a 0-D tensor");
  TORCH_CHECK(weight.dim() == 2, op, ": weight must be a 2-D tensor [out_features, in_features], "
              "got shape ", weight.sizes());
  check_operand_dtypes(op, input, weight, mask, bias_t, grad_output, backend, dtypes);

  const int64_t in = weight.size(1), out = weight.size(0);
  TORCH_CHECK(input.size(-1) == in, op, ": input.size(-1) (", input.size(-1),
              ") must equal weight in_features (weight.size(1) = ", in, ")");
  if (has_bias)
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == out, op,
                ": bias must be a 1-D tensor of weight.size(0) = ", out,
                " elements, got shape ", bias->sizes());
  if (grad_output) {
    const auto want = output_shape(input, out);
    TORCH_CHECK(grad_output->sizes() == at::IntArrayRef(want), op, ": grad_output shape ",
                grad_output->sizes(), " must equal the output shape ", at::IntArrayRef(want));
  }
}

at::Tensor masked_linear_forward(dsdkHandle_t h, const at::Tensor& input,
                                 const at::Tensor& weight, const at::Tensor& mask,
                                 const std::optional<at::Tensor>& bias) {
  const char* op = "masked_linear";
  const int64_t out = weight.size(0), in = weight.size(1);
  at::Tensor x = rows_of(input);
  const int64_t rows = x.size(0);
  at::Tensor y = at::empty({rows, out}, input.options());
  const bool has_bias = bias.has_value() && bias->defined();
  // The bias enters as beta * C, saving a pass over the output.
  if (has_bias) y.copy_(bias->expand({rows, out}));
  const Operand a = operand(x), w = operand(weight);
  const at::Tensor m = mask_like(mask, w.t);
  // op(B) = W^T: a row-major W is read transposed.
  gemm(h, op, a.trans, !w.trans, rows, out, in, a.t, a.ld, w.t, w.ld, &m, has_bias ? 1.0 : 0.0,
       y, std::max<int64_t>(out, 1), nullptr);
  return y.view(output_shape(input, out));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> masked_linear_backward(
    dsdkHandle_t h, const at::Tensor& grad_output, const at::Tensor& input,
    const at::Tensor& weight, const at::Tensor& mask, std::array<bool, 3> output_mask) {
  const char* op = "masked_linear_backward";
  const int64_t out = weight.size(0), in = weight.size(1);
  const at::Tensor dy2 = rows_of(grad_output);
  const int64_t rows = dy2.size(0);
  const Operand dy = operand(dy2);
  at::Tensor grad_input, grad_weight, grad_bias;
  if (output_mask[0]) {
    const Operand w = operand(weight);
    const at::Tensor m = mask_like(mask, w.t);
    grad_input = at::empty({rows, in}, input.options());
    gemm(h, op, dy.trans, w.trans, rows, in, out, dy.t, dy.ld, w.t, w.ld, &m, 0.0, grad_input,
         std::max<int64_t>(in, 1), nullptr);
    grad_input = grad_input.view(input.sizes());
  }
  if (output_mask[1]) {
    const Operand x = operand(rows_of(input));
    const at::Tensor m = mask_bytes(mask);
    grad_weight = at::empty({out, in}, weight.options());
    // op(A) = dY^T; an empty batch (k = 0) gives zeros.
    gemm(h, op, !dy.trans, x.trans, out, in, rows, dy.t, dy.ld, x.t, x.ld, nullptr, 0.0,
         grad_weight, std::max<int64_t>(in, 1), &m);
  }
  if (output_mask[2]) grad_bias = dy2.sum(0);
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace dsdk_torch
