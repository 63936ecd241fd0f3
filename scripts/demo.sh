#!/usr/bin/env bash
# The main job: builds dsdkern, installs the peers, and runs the demo on data that
# ships with packages (Han prune-and-retrain and DSD on digits and MNIST-1D, both SVM
# solvers against LIBSVM, masked convolution against torch, pruned layers' sparse
# execution against torch); writes results/report.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$here/scripts/setup_env.sh" scikit-learn-intelex thundersvm-cpu
cd "$here"
python -m dsdkern demo "$@"
