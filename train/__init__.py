"""Fine-tuning VGG19 on FI with the iterative unfreezing of Sreenivas & Zhao (CS230, 2018).

Run from a checkout as ``python -m train prepare|fit|evaluate ...``; the checkpoint ``fit`` writes
is the one ``trajectory analyze --model`` reads. This package imports ``trajectory``; never the
other way round.
"""
