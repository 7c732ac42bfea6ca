"""What people are told when something fails: the one error -> sentence policy of the app's pages, its
background jobs and the command line, and the typed failures that belong to no lower module.

No Keras and no Streamlit: the CLI's --help, the pages and the job processes all import it.
"""

from __future__ import annotations

import enum

from digitcore import data, ensemble, export, registry, samples
from digitcore.reading import decode


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing was saved."""


class FinetuneRejected(RuntimeError):
    """Fine-tuning cost more MNIST accuracy than allowed; nothing was saved. str() says how much."""


class JobBusy(RuntimeError):
    """A training job is already running on this server; str(error) says which."""


class Audience(enum.StrEnum):
    """Who reads the sentence, which decides how much of the error's own text they get."""

    PAGE = "page"  # a visitor of the app: the fix, never a path of the server or a traceback
    JOB = "job"  # every visitor, on a background job's panel: as a page, with the job's next step
    CLI = "cli"  # the person at the terminal, on their own machine: the core's full message


FETCH_DATA_COMMAND = "python -m digitcore fetch-data"
# Missing MNIST: the fix is the same command; what to do after it depends on where it was noticed.
DATA_MISSING_ON_PAGE = (
    f"The MNIST digits are not available on this server. Run `{FETCH_DATA_COMMAND}` "
    "(or `./run.sh`), then reload this page."
)
DATA_MISSING_IN_JOB = (
    f"Training needs the MNIST digits, and they are not available on the server. Run "
    f"`{FETCH_DATA_COMMAND}` there, then start the job again; details are in the server log."
)

# Typed failures whose own message is already a sentence a person can act on, for every audience.
SELF_EXPLAINED: tuple[type[BaseException], ...] = (
    TrainingDiverged,
    FinetuneRejected,
    JobBusy,
    registry.ModelSaveError,  # ModelExists too
    decode.ImageError,  # every bad-image subclass: too large, not an image, blank, ...
    samples.SampleImportError,
    ensemble.EnsembleError,
    export.ExportUnavailable,
)
# Every failure sentence_for() has a sentence for: `except errors.EXPLAINED as error:` then ask it.
EXPLAINED: tuple[type[BaseException], ...] = (data.DataUnavailable, registry.ModelFileError, *SELF_EXPLAINED)


def sentence_for(error: BaseException, audience: Audience = Audience.PAGE) -> str | None:
    """The sentence `audience` is told for `error`, or None when it is not a failure people can act on
    (an internal error: log its traceback and say something went wrong)."""
    if isinstance(error, data.DataUnavailable):
        # Its own text lists every source tried and why, with local paths: for the terminal only.
        return {Audience.PAGE: DATA_MISSING_ON_PAGE, Audience.JOB: DATA_MISSING_IN_JOB}.get(audience, str(error))
    if isinstance(error, registry.ModelFileError):
        return str(error) if audience == Audience.CLI else f"This model cannot be used: {error}"
    if isinstance(error, SELF_EXPLAINED):
        return str(error)
    return None
