"""The pieces `rnnkit.losses` is made of; import them from `rnnkit.losses`.

`reduction` weighs and reduces a loss's values as Keras's keras/src/losses/loss.py does; `base` holds
Keras's `Loss` and `LossFunctionWrapper` classes; `ctc`, `overlap` (Dice, Tversky) and `circle` are
Keras 3.15.1's losses of those names. Imports point one way: `rnnkit.losses` imports these modules,
never the reverse.
"""
