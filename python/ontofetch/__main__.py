"""`ontofetch` on the command line (the console script) and `python -m ontofetch`, which is
also how validator workers are started from Python."""

import sys

from ontofetch import _native


def main() -> None:
    sys.exit(_native.run_cli([sys.argv[0], *sys.argv[1:]]))


if __name__ == "__main__":
    main()
