"""Fixtures for the LangChain tests: an offline "web" of real photos, fake chat models,
and a loopback HTTP server for pages and images. Nothing here reaches the network."""

from __future__ import annotations

import pytest

from rir.engines.local import LocalIndex
from rir.inputs.images import QueryImage
from tests.langchain.helpers import RecordingChatModel, hopper_query, web_index

# The same portrait as it appears on several pages, as a reverse image search sees the web.






@pytest.fixture
def query_image() -> QueryImage:
    return hopper_query()


@pytest.fixture
def index() -> LocalIndex:
    return web_index()




@pytest.fixture
def recording_model() -> RecordingChatModel:
    return RecordingChatModel()
