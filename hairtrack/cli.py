"""Command line (placeholder until the CLI lands in this session)."""


def main(argv=None) -> int:
    return 0
