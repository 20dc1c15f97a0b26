// The console as a controlling terminal: the session it belongs to and its
// foreground process group, which the signal keys (VINTR, VQUIT, VSUSP)
// and a window-size change signal. From boot it is init's (session 1,
// group 1), so Ctrl-C reaches the shell and what it runs; Linux leaves
// init without a controlling terminal until it makes a session and opens
// one. The process layer registers how to signal a group.
let session: u32 = 1; // 0: nobody's controlling terminal
let foreground: u32 = 1;
let signalGroup: ((group: u32, signal: u32) => void) | null = null;

export function registerForeground(signal: (group: u32, signal: u32) => void): void {
  signalGroup = signal;
}

/** The session whose controlling terminal the console is; 0 if none. */
export function terminalSession(): u32 {
  return session;
}

/** The foreground process group; 0 if the console has no session. */
export function foregroundGroup(): u32 {
  return foreground;
}

export function setForegroundGroup(group: u32): void {
  foreground = group;
}

/** The console becomes the controlling terminal of `sid`, with `group` in the foreground (TIOCSCTTY). */
export function attachSession(sid: u32, group: u32): void {
  session = sid;
  foreground = group;
}

/** The session gives the console up (TIOCNOTTY, or its leader's exit). */
export function detachSession(): void {
  session = 0;
  foreground = 0;
}

/** Sends `signal` to the foreground process group, if there is one. */
export function signalForeground(signal: u32): void {
  const send = signalGroup;
  if (send != null && foreground != 0) send(foreground, signal);
}
