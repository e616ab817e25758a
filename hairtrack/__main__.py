"""``python -m hairtrack`` runs the command line."""

from hairtrack.cli import main

raise SystemExit(main())
