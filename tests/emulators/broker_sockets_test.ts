import { equal, match, rejects } from "node:assert/strict";
import { openBrokerSockets } from "./broker_sockets.ts";

Deno.test("a program on the native sockets runs without npm:zeromq, FFI or a config file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/native_only.ts`;
    const emulator = new URL("./threatbus_emulator.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { ThreatBusEmulator } from "${emulator}";\n` +
        `const e = await ThreatBusEmulator.start({ sockets: "native", format: "legacy" });\n` +
        `console.log(e.implementation, e.managePort > 0);\n` +
        `await e.close();\n`,
    );
    // No config: a bare "zeromq" would not even resolve. No --allow-ffi: its addon could not load.
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        "--allow-net=127.0.0.1",
        `--allow-read=${dir}`,
        script,
      ],
      stdin: "null",
    }).output();
    equal(output.code, 0, new TextDecoder().decode(output.stderr));
    equal(new TextDecoder().decode(output.stdout), "native true\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown implementation is refused", async () => {
  await rejects(
    openBrokerSockets("zmq4" as never, {
      ports: { manage: 0, pub: 0, sub: 0 },
      subPrefixes: [],
      handlers: { answer: () => "", listen: () => {}, receive: () => {} },
    }),
    (error: Error) => {
      match(error.message, /unknown implementation "zmq4"/);
      return error instanceof RangeError;
    },
  );
});
