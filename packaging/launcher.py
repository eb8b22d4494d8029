"""PyInstaller entry point of both executables: ``reelseek`` (GUI), ``reelseek-cli`` (CLI), and
``<exe> -m reelseek.MODULE ARGS`` for the child processes core starts with ``sys.executable``."""

import os
import runpy
import sys


def main() -> int:
    argv = sys.argv
    # core/models/text_encoder.py exports the text tower in a child: [sys.executable, "-m", MODULE, ...].
    if len(argv) >= 3 and argv[1] == "-m" and argv[2].startswith("reelseek."):
        sys.argv = [argv[0], *argv[3:]]
        runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        return 0
    if os.path.basename(sys.executable).lower().startswith("reelseek-cli"):
        from reelseek.core.cli import main as cli_main

        return cli_main()
    from reelseek.desktop.app import main as app_main

    return app_main()


sys.exit(main())
