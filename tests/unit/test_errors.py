"""The one error -> sentence policy (digitcore/errors.py): what a page, a job and the CLI say for each
typed failure of the core, word for word."""

import pytest

from digitcore import data, errors, jobs, registry, samples, training
from digitcore.errors import Audience
from digitcore.reading import decode

DATA_DETAILS = "Every MNIST source failed: the cache /srv/data/mnist is empty and the network is off."
PAGE_DATA = (
    "The MNIST digits are not available on this server. Run `python -m digitcore fetch-data` "
    "(or `./run.sh`), then reload this page."
)
JOB_DATA = (
    "Training needs the MNIST digits, and they are not available on the server. Run "
    "`python -m digitcore fetch-data` there, then start the job again; details are in the server log."
)
BROKEN_MODEL = "m.keras is not a Keras model file (damaged or not a .keras zip)."


@pytest.mark.parametrize(
    "error, audience, sentence",
    [
        # missing MNIST: a visitor gets the fix and no path; the terminal gets every source tried
        (data.DataUnavailable(DATA_DETAILS), Audience.PAGE, PAGE_DATA),
        (data.DataUnavailable(DATA_DETAILS), Audience.JOB, JOB_DATA),
        (data.DataUnavailable(DATA_DETAILS), Audience.CLI, DATA_DETAILS),
        # a model file that cannot be used: visitors are told it is the model, the terminal the reason
        (registry.ModelFileError(BROKEN_MODEL), Audience.PAGE, f"This model cannot be used: {BROKEN_MODEL}"),
        (registry.ModelFileError(BROKEN_MODEL), Audience.JOB, f"This model cannot be used: {BROKEN_MODEL}"),
        (registry.ModelFileError(BROKEN_MODEL), Audience.CLI, BROKEN_MODEL),
        # failures whose own message is the sentence, for everyone
        (
            registry.ModelExists("A model named 'x' already exists, so nothing was saved over it."),
            Audience.JOB,
            "A model named 'x' already exists, so nothing was saved over it.",
        ),
        (
            registry.ModelSaveError("Could not save the model x: No space left on device."),
            Audience.CLI,
            "Could not save the model x: No space left on device.",
        ),
        (training.TrainingDiverged("The loss became NaN."), Audience.JOB, "The loss became NaN."),
        (training.FinetuneRejected("Fine-tuning cost 1.00 points."), Audience.JOB, "Fine-tuning cost 1.00 points."),
        (jobs.JobBusy("'a' (digitnet) is training right now."), Audience.PAGE, "'a' (digitnet) is training right now."),
        (decode.NoDigitFound("The image is blank."), Audience.PAGE, "The image is blank."),
        (decode.FileTooLarge("The file is over 10 MB."), Audience.CLI, "The file is over 10 MB."),
        (samples.SampleImportError("The zip holds no samples.csv."), Audience.PAGE, "The zip holds no samples.csv."),
    ],
)
def test_each_typed_failure_has_its_sentence(error, audience, sentence):
    assert errors.sentence_for(error, audience) == sentence
    assert isinstance(error, errors.EXPLAINED)  # `except errors.EXPLAINED` catches what has a sentence


@pytest.mark.parametrize(
    "error",
    [
        ValueError("index 3 is out of bounds"),  # a plain ValueError may be a bug: its text is not for people
        KeyError("accuracy"),
        OSError("[Errno 5] Input/output error: '/srv/models/x.keras'"),
    ],
)
def test_internal_errors_have_no_sentence(error):
    for audience in Audience:
        assert errors.sentence_for(error, audience) is None
    assert not isinstance(error, errors.EXPLAINED)


def test_the_old_names_are_the_same_classes():
    """Callers name them where they are raised (training.X, jobs.JobBusy); one class each."""
    assert training.TrainingDiverged is errors.TrainingDiverged
    assert training.FinetuneRejected is errors.FinetuneRejected
    assert jobs.JobBusy is errors.JobBusy
    assert jobs.DATA_MISSING_MESSAGE == JOB_DATA
