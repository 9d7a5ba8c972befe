"""``python -m crypto_dash``: the command line."""

from crypto_dash.cli import main

raise SystemExit(main())
