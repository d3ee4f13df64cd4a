"""`ontofetch` on the command line (the console script) and `python -m ontofetch`, which is
also how validator workers are started from Python."""

import sys

from ontofetch import _native


def main() -> None:
    # The program's name is `ontofetch` however it was started (`python -m ontofetch` would
    # otherwise show `__main__.py` in its help and errors).
    sys.exit(_native.run_cli(["ontofetch", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
