"""LangChain's own standard suites, offline against the local engine."""

from __future__ import annotations

from typing import Any

from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_rir import ReverseImageRetriever, ReverseImageSearchTool
from tests.langchain.helpers import hopper_query, web_index


class TestReverseImageRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[ReverseImageRetriever]:
        return ReverseImageRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"engine": web_index(), "cache": False}

    @property
    def retriever_query_example(self) -> str:
        return hopper_query().as_data_uri()


class _ToolSetup:
    """What both tool suites build and call."""

    @property
    def tool_constructor(self) -> type[ReverseImageSearchTool]:
        return ReverseImageSearchTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"retriever": ReverseImageRetriever(engine=web_index(), cache=False)}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"image_url": hopper_query().as_data_uri(), "max_results": 3}


class TestReverseImageSearchToolUnit(_ToolSetup, ToolsUnitTests):
    pass


class TestReverseImageSearchToolIntegration(_ToolSetup, ToolsIntegrationTests):
    pass
