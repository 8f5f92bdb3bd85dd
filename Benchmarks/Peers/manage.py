#!/usr/bin/env python
"""Django's command line for the peer project (Benchmarks/Peers); run.py is what scripts/bench uses."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerbench.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
