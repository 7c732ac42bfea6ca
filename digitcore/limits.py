"""Every limit a visitor's or a user's request is checked against, in one place (no Keras, no Streamlit).

The Train and My digits widgets take their bounds from here, the job requests refuse values outside
them, and the CLI checks the same requests, so a value one entry point accepts no other refuses.
"""

TRAINING_DIGITS = 60000  # the whole MNIST training set
# Two digits is the least a run can split into batches and learn from at all; the page's
# validation hold-out needs more, which its estimate and curves show.
MIN_TRAINING_DIGITS = 2
MAX_EPOCHS = 100  # the most any recipe, override or subset scaling may ask for

FINETUNE_MIN_EPOCHS = 1
FINETUNE_MAX_EPOCHS = 50  # a few epochs are the point; fifty is far past where MNIST accuracy drops
FINETUNE_DEFAULT_EPOCHS = 4

# Uploads (a photo of a digit, a zip of exported digits) and files the CLI reads: one cap for all.
# .streamlit/config.toml's server.maxUploadSize must say the same number of MB (a unit test checks).
MAX_UPLOAD_MB = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20


def check_training_digits(limit: int | None) -> None:
    """`limit` digits of the training set (None: all of them), or ValueError with a sentence."""
    if limit is not None and not MIN_TRAINING_DIGITS <= limit <= TRAINING_DIGITS:
        raise ValueError(
            f"The training subset must hold between {MIN_TRAINING_DIGITS} and {TRAINING_DIGITS:,} digits, not {limit}."
        )


def check_finetune_epochs(epochs: int) -> None:
    if not FINETUNE_MIN_EPOCHS <= epochs <= FINETUNE_MAX_EPOCHS:
        raise ValueError(f"Epochs must be between {FINETUNE_MIN_EPOCHS} and {FINETUNE_MAX_EPOCHS}, not {epochs}.")
