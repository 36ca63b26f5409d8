"""The exit codes that stand for a signal, as the shell reports a command the signal stopped (128 + its
number): in a module of their own, which `iterable_sim.cli.main` reads before the commands are loaded."""

EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE: a closed pipe
