"""Tests of handler.py that need no faas: python3 -m unittest"""

import json
import os
import unittest

from handler import handler


class Context:
    """The fields of the context faas passes, as a test sets them."""

    function_name = "test"
    function_version = "1"
    job_id = "test-job"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self):
        return 30000


class HandlerTest(unittest.TestCase):
    def test_sample_event(self):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "event.json")) as f:
            event = json.load(f)
        self.assertEqual(handler(event, Context()), {"message": "Hello, Ada!"})

    def test_no_name(self):
        self.assertEqual(handler({}, Context()), {"message": "Hello, world!"})


if __name__ == "__main__":
    unittest.main()
