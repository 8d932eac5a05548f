"""`python -m nnmath`: the same as the `nnmath` command."""

from nnmath.cli import main

raise SystemExit(main())
