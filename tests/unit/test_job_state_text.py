"""How pages write a job's state: one wording for every page (issue 28: My digits showed the raw "done")."""

from digitcore.jobs.state import JobState


def test_every_state_has_its_words_and_a_finished_job_says_finished():
    assert JobState.DONE.text == "finished"
    assert JobState.RUNNING.text == "training" and JobState.INTERRUPTED.text.startswith("interrupted")
    assert all(state.text for state in JobState)  # a state added without words fails here, not on a page
