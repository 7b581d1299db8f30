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
