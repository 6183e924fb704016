import CSupport

/// Cooperative cancellation: Ctrl-C sets a process-wide flag (from a C signal handler, since
/// Swift cannot touch a `sig_atomic_t`), and long loops — training steps, HVP rounds, measures —
/// poll it between units of work and unwind by throwing `Cancelled`.
///
/// The flag stays set until `clear()`, so every enclosing loop sees it while unwinding; whoever
/// catches `Cancelled` for good (the REPL, back at its prompt) clears it.
///
///     for batch in batches { try Cancellation.check(); try step(batch) }
public enum Cancellation {
    /// Installs the SIGINT handler (no `SA_RESTART`, so a blocking read returns and sees the flag).
    /// A second Ctrl-C while the flag is still set restores the default handler, so a third ends
    /// the process even if nothing polls.
    ///
    ///     Cancellation.installHandler()
    public static func installHandler() { losscape_install_sigint_handler() }

    /// Restores the default SIGINT disposition (Ctrl-C ends the process again).
    ///
    ///     Cancellation.uninstallHandler()
    public static func uninstallHandler() { losscape_uninstall_sigint_handler() }

    /// True when Ctrl-C was pressed (or `request()` called) since the last `clear()`.
    ///
    ///     if Cancellation.isRequested { break }
    public static var isRequested: Bool { losscape_interrupted() != 0 }

    /// Resets the flag (and re-arms the handler a second Ctrl-C may have reset).
    ///
    ///     Cancellation.clear()
    public static func clear() { losscape_clear_interrupt() }

    /// Sets the flag by hand, as Ctrl-C would (tests, or cancelling from another thread).
    ///
    ///     Cancellation.request()
    public static func request() { losscape_raise_interrupt() }

    /// Throws `Cancelled` when cancellation was requested; cheap enough to call every step.
    ///
    ///     try Cancellation.check()
    public static func check() throws {
        if isRequested { throw Cancelled() }
    }
}

/// Thrown by `Cancellation.check()` when the user pressed Ctrl-C.
///
///     do { try work() } catch is Cancelled { print("interrupted") }
public struct Cancelled: Error, CustomStringConvertible, Equatable {
    public init() {}
    public var description: String { "interrupted" }
}
