"""`dse run` listens to Ctrl-C even when started with SIGINT ignored (a background job of a script)."""

from __future__ import annotations

import signal

from dse.commands.cli import _listen_to_ctrl_c


def test_an_inherited_ignored_sigint_is_restored_to_keyboard_interrupt() -> None:
    before = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _listen_to_ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        custom = lambda *_: None  # noqa: E731
        signal.signal(signal.SIGINT, custom)
        _listen_to_ctrl_c()  # a handler someone installed on purpose is left alone
        assert signal.getsignal(signal.SIGINT) is custom
    finally:
        signal.signal(signal.SIGINT, before)
