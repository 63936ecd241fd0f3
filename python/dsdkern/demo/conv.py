"""`python -m dsdkern demo conv`: checks masked_conv against F.conv2d(x, w * m) (forward and gradients) on a
ResNet-18 layer, then prints the convolution benchmark table (bench conv) at 90 %
weight sparsity. svm: both SVM solvers against LIBSVM on digits and breast_cancer.
"""
from . import add_options


def register(areas) -> None:
    p = areas.add_parser("conv", help="masked_conv vs F.conv2d: check, then the ResNet-18 table",
                         description=__doc__.splitlines()[0])
    add_options(p, area=True)
    p.set_defaults(func=run)


def _check_conv() -> None:
    import torch
    import torch.nn.functional as F

    from ..bench.conv import LAYERS, make_problem

    pb = make_problem(LAYERS[0], 2, 0.9, torch.float32)
    x = pb.x.clone().requires_grad_()
    w = pb.w.clone().requires_grad_()
    ours = torch.ops.dsdkern.masked_conv(x, w, pb.mask, None, [1, 1], [1, 1], [1, 1], 1)
    ours.square().sum().backward()
    x_ref = pb.x.clone().requires_grad_()
    w_ref = pb.w.clone().requires_grad_()
    ref = F.conv2d(x_ref, w_ref * pb.mask, None, 1, 1)
    ref.square().sum().backward()

    def rel(a, b):
        return float((a.detach() - b.detach()).abs().max() / b.detach().abs().max())

    print(f"masked_conv vs F.conv2d(x, w*m), {LAYERS[0].name}, N=2, 90 % pruned: max relative "
          f"error y {rel(ours, ref):.1e}, dx {rel(x.grad, x_ref.grad):.1e}, "
          f"dw {rel(w.grad, w_ref.grad):.1e}; pruned weights get zero gradient: "
          f"{bool((w.grad[~pb.mask] == 0).all())}")


def run(args) -> int:
    import torch

    import dsdkern  # noqa: F401  (registers the ops)

    from ..bench import conv

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print("== masked convolution (CPU, float32)")
    _check_conv()
    meta = conv.metadata("cpu")
    print(f"# {meta['machine']} | torch {meta['torch']} | threads {meta['threads']}")
    print(f"# {meta['peer']}")
    print(conv.format_header(), flush=True)
    conv.run(conv.LAYERS, (1, 8), (0.9,), threads=args.threads, warmup=1, repeats=5,
             budget_s=0.5,
             progress=lambda r: print(conv.format_row(r), flush=True))
    return 0
