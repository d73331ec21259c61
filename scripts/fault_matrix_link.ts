/**
 * The fault matrix's rows for issue 18: the link between bridge and broker
 * (frozen, killed, silently dead) and outages behind the bridge (VAST down
 * mid-stream, a sink command killed). Each runs the driver its test runs
 * (`tests/integration/link_drivers.ts`, `outage_drivers.ts`) and says what it
 * measured.
 */
import {
  brokerFreeze,
  brokerKill,
  type LinkFigures,
  silentLink,
} from "../tests/integration/link_drivers.ts";
import { sinkKilled, vastDownMidStream } from "../tests/integration/outage_drivers.ts";

/** One row's findings, as `fault_matrix.ts` prints them. */
export interface LinkFinding {
  readonly did: string;
  readonly sent: number | string;
  readonly received: number | string;
  readonly peakRssKib: number | undefined;
}

/** The rows, by key, in the order they run. */
export const LINK_SCENARIOS: Readonly<
  Record<string, { readonly fault: string; readonly run: () => Promise<LinkFinding> }>
> = {
  "broker-freeze": {
    fault: "Threat Bus frozen (SIGSTOP) past the heartbeat timeout, then resumed",
    run: async () => {
      const f = await brokerFreeze();
      return finding(
        f,
        `ZMTP heartbeat found a connection silent after ${s(f.silenceNoticedAfterMs)}, the ` +
          `management heartbeat failed after ${s(f.noticedAfterMs)}; resumed then → a new ` +
          `subscription listening after ` +
          `${s(f.backAfterMs)}; the ${f.madeWhileFrozen} sightings made while frozen arrived; ` +
          `${f.queries} indicators queried once each`,
      );
    },
  },
  "broker-kill": {
    fault: "Threat Bus killed (SIGKILL), restarted on the same ports",
    run: async () => {
      const f = await brokerKill();
      return finding(
        f,
        `${f.madeWhileDead} sightings made while no broker ran were queued; restarted → a new ` +
          `subscription listening after ${s(f.backAfterMs)}; the queue and the next indicator's ` +
          `sightings arrived (${f.receivedBefore} received before the kill)`,
        { received: f.receivedBefore + f.receivedIds.length },
      );
    },
  },
  "silent-link": {
    fault: "link dies silently (proxies stop forwarding, close nothing)",
    run: () => silentLinkRow({}),
  },
  "silent-link-no-ping": {
    fault: "the same without ZMTP heartbeats (as with a ZMTP 3.0 broker)",
    run: () => silentLinkRow({ zmtp_heartbeat_interval: 0 }),
  },
  "vast-down-mid-run": {
    fault: "VAST down mid-stream for 5 s (retro_match_retries 1)",
    run: async () => {
      const f = await vastDownMidStream();
      return {
        did:
          `down ${s(f.downMs)} while ${f.published} indicators arrived: ${f.stateLines.length} ` +
          `state lines (down, up), ${f.retries} retries spent, ${f.queriedIndicators}/` +
          `${f.published} queried to the end; every sighting in within ${s(f.drainedAfterMs)} ` +
          `of VAST's return; ${twice(f.receivedIds)} twice`,
        sent: f.made,
        received: f.receivedIds.length,
        peakRssKib: f.peakRssKib,
      };
    },
  },
  "sink-killed": {
    fault: "sink command killed mid-stream (full pipe, 100 kB in its own buffer)",
    run: async () => {
      const f = await sinkKilled();
      return {
        did: `restarted ${f.restarts}×; ${f.resent.join(", ")} lines re-sent (sink_resend_bytes ` +
          `256 KiB); ${new Set(f.outIds).size}/${f.made} sightings in its output, ` +
          `${twice(f.outIds)} twice; SIGTERM → exit ${f.exitCode}`,
        sent: f.made,
        received: new Set(f.outIds).size,
        peakRssKib: f.peakRssKib,
      };
    },
  },
};

async function silentLinkRow(config: Record<string, unknown>): Promise<LinkFinding> {
  const f = await silentLink({ config });
  const found = f.silentConnections.length === 0
    ? "no connection found silent (no PINGs): the management heartbeat failed and redialled them"
    : `${f.silentConnections.join(" and ")} found silent by the ZMTP heartbeat`;
  return finding(
    f,
    `${f.stalled} connections black-holed; ${found}; SUB, PUB and subscription back after ` +
      `${s(f.backAfterMs)} (target ≤ 15 s); ${f.queriedAfter}/${f.publishedAfter} indicators ` +
      `published afterwards queried, ${f.madeAfter}/${f.expectedAfter} sightings`,
  );
}

function finding(
  f: LinkFigures,
  did: string,
  options: { readonly received?: number } = {},
): LinkFinding {
  return {
    did: `${did}; ${twice(f.receivedIds)} twice; SIGTERM → exit ${f.exitCode}`,
    sent: f.made,
    received: options.received ?? f.receivedIds.length,
    peakRssKib: f.peakRssKib,
  };
}

function twice(ids: readonly string[]): number {
  return ids.length - new Set(ids).size;
}

function s(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
