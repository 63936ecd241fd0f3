#!/usr/bin/env bash
# The main job: builds dsdkern, installs the peers, and runs the demo
# (masked convolution against torch, both SVM solvers against LIBSVM) on data
# that ships with packages.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$here/scripts/setup_env.sh" scikit-learn-intelex thundersvm-cpu
cd "$here"
python -m dsdkern demo "$@"
