"""Shared set-up for the tests.

The tests run many small tensor operations; on small shared machines torch's
intra-op thread pool makes those slower and far less predictable (threads
wait on each other), so each test module runs single-threaded and
restores the previous setting afterwards.
"""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def train_killed_at(monkeypatch):
    """``train_killed_at(spec, config, folder, step)`` trains as ``train`` does but is killed (a
    KeyboardInterrupt, as Ctrl-C gives) right after ``step``, leaving the folder as a killed run leaves it."""
    from pdedsl.training import run as run_module
    from pdedsl.training import train

    def killed(spec, config, folder, step: int) -> None:
        after_step = run_module.Trainer._after_step

        def kill_after(self, at, *args, **kwargs):
            after_step(self, at, *args, **kwargs)
            if at == step:
                raise KeyboardInterrupt

        monkeypatch.setattr(run_module.Trainer, "_after_step", kill_after)
        try:
            with pytest.raises(KeyboardInterrupt):
                train(spec, config, folder, progress=False)
        finally:
            monkeypatch.setattr(run_module.Trainer, "_after_step", after_step)

    return killed
