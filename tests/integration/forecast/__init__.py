"""Tests of the forecast writer: fetching, summarising, fitting and OpenAI."""
