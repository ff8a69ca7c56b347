"""The `ccoin` command (click). Thin: parses arguments, calls the packages, prints JSON or
text. Every `CcoinError` becomes one line on stderr with its code, and exit status 2.

May import every other `ccoin` package.
"""
