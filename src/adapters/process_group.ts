/**
 * Processes in groups of their own: started as a group leader, so that one
 * kill reaches the grandchildren that hold the pipes open too.
 */

/**
 * Starts `binary` as the leader of a new process group, so that a kill reaches
 * the grandchildren that hold our pipes open as well. `setsid(1)` does that
 * with Deno's fast spawn path; `detached: true` would too, but makes Deno fork
 * the whole process (page tables and all), which costs 10-20 ms a query. Hosts
 * without `setsid` get `detached`.
 */
export function spawnInOwnGroup(
  binary: string,
  options: {
    readonly args: readonly string[];
    readonly withInput: boolean;
    readonly removeEnv: readonly string[];
  },
): Deno.ChildProcess {
  const { args, withInput, removeEnv } = options;
  const stdio = {
    stdin: withInput ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  } as const;
  // The environment is copied only when a variable to remove is set: the common case stays cheap.
  const environment = removeEnv.some((name) => Deno.env.get(name) !== undefined)
    ? {
      clearEnv: true,
      env: Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([name]) => !removeEnv.includes(name)),
      ),
    }
    : {};
  try {
    return new Deno.Command("setsid", { args: [binary, ...args], ...stdio, ...environment })
      .spawn();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return new Deno.Command(binary, { args: [...args], ...stdio, ...environment, detached: true })
      .spawn();
  }
}

/** Kills the process group of `pid` (or the process alone, if it leads none yet). */
export function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // Either the group is gone, or setsid has not made it yet (no grandchildren then).
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
