#!/usr/bin/env bash
# Retrain every shipped model with its published recipe (the reference presets) or our own
# (digitnet, the default, and the two other DigitNets of the ensemble), then average the ensemble.
# Each model card records the exact command. Takes about two and a half hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
for arch in dense_baseline larger_cnn simple_cnn keras_basic bn_cnn conv_relu_pool keras_mnist_cnn; do
  "$py" -m digitcore train --arch "$arch" --seed 0 --overwrite
done
"$py" -m digitcore train --arch digitnet --seed 0 --default --overwrite
# Two more DigitNets for the ensemble: other seeds, and longer, flatter flags on their training ones.
for seed in 3 4; do
  "$py" -m digitcore train --arch digitnet --seed "$seed" --flag-longest 0.5 --flag-flattest 28 \
    --name "digitnet_seed$seed" --overwrite
done
"$py" -m digitcore ensemble --members digitnet,digitnet_seed3,digitnet_seed4 \
  --name digitnet_ensemble --title "DigitNet ensemble (3 DigitNets, averaged)" --overwrite
